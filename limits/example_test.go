package limits_test

import (
	"context"
	"fmt"

	"github.com/offheap-go/offheap/limits"
)

func ExampleParseSize() {
	for _, s := range []string{"64m", "2G", "0", "1.5g"} {
		n, err := limits.ParseSize(s)
		fmt.Println(n, err)
	}
	// Output:
	// 67108864 <nil>
	// 2147483648 <nil>
	// 0 <nil>
	// 0 limits: invalid size "1.5g": want decimal digits with an optional k, m, g or t suffix
}

func ExampleBudget() {
	budget := limits.NewBudget(1 << 20)

	// A page-aligned buffer of 1000 bytes takes 4096 but counts 1000
	// against the limit.
	if err := budget.Reserve(context.Background(), 4096, 1000); err != nil {
		fmt.Println(err)
		return
	}
	s := budget.Stats()
	fmt.Println(s.Count, s.TotalCapacity, s.Reserved, s.Max)

	budget.Unreserve(4096, 1000)
	fmt.Println(budget.Stats().Count)
	// Output:
	// 1 1000 4096 1048576
	// 0
}
