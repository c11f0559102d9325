package directmem_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/limits"
)

func TestArenaCapacityTooLarge(t *testing.T) {
	ar := directmem.NewArena(directmem.Options{Budget: limits.NewBudget(1 << 20)})
	defer ar.Free()
	n := int(^uint(0) >> 1)
	if b, err := ar.Allocate(n); !errors.Is(err, directmem.ErrInvalidCapacity) || b != nil || !strings.Contains(err.Error(), "9223372036854775807") {
		t.Errorf("Allocate(%d) = %v, %v; want ErrInvalidCapacity naming the capacity", n, b, err)
	}
}
