//go:build unix

package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
)

// svgChart draws two horizontal bar charts, one above the other: the
// throughput of each mode, and the server's CPU time (user, with system
// stacked after it). Plain SVG, no scripts or external fonts.
func svgChart(rs []result, size int64) []byte {
	const (
		width   = 760
		left    = 150 // the mode names
		right   = 90  // the values
		barH    = 22
		gap     = 8
		titleH  = 30
		panelGp = 24
	)
	plotW := float64(width - left - right)
	panelH := titleH + len(rs)*(barH+gap)
	height := 40 + 2*panelH + panelGp + 30

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">Serving a %d MiB file over loopback TCP (examples/zerocopy)</text>`+"\n", 10, size>>20)

	// Throughput.
	y := 40
	maxT := 0.0
	for _, r := range rs {
		maxT = math.Max(maxT, r.mibps())
	}
	fmt.Fprintf(&b, `<text x="10" y="%d" font-weight="bold">Throughput (MiB/s, higher is better)</text>`+"\n", y+18)
	y += titleH
	for _, r := range rs {
		w := scale(r.mibps(), maxT, plotW)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+barH-6, html.EscapeString(r.mode.name))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#3b73b9"/>`+"\n", left, y, w, barH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.0f</text>`+"\n", float64(left)+w+6, y+barH-6, r.mibps())
		y += barH + gap
	}

	// CPU: user, then sys stacked.
	y += panelGp
	maxC := 0.0
	for _, r := range rs {
		maxC = math.Max(maxC, (r.user + r.sys).Seconds())
	}
	fmt.Fprintf(&b, `<text x="10" y="%d" font-weight="bold">Server CPU time (s, lower is better):</text>`+"\n", y+18)
	fmt.Fprintf(&b, `<rect x="300" y="%d" width="12" height="12" fill="#d9822b"/><text x="316" y="%d">user</text>`+"\n", y+7, y+18)
	fmt.Fprintf(&b, `<rect x="360" y="%d" width="12" height="12" fill="#9aa5b1"/><text x="376" y="%d">sys</text>`+"\n", y+7, y+18)
	y += titleH
	for _, r := range rs {
		uw := scale(r.user.Seconds(), maxC, plotW)
		sw := scale(r.sys.Seconds(), maxC, plotW)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+barH-6, html.EscapeString(r.mode.name))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#d9822b"/>`+"\n", left, y, uw, barH)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#9aa5b1"/>`+"\n", float64(left)+uw, y, sw, barH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.3f + %.3f</text>`+"\n", float64(left)+uw+sw+6, y+barH-6, r.user.Seconds(), r.sys.Seconds())
		y += barH + gap
	}
	fmt.Fprintf(&b, `<text x="10" y="%d" font-size="11" fill="#555555">Server CPU from getrusage(RUSAGE_SELF) in the server process over the transfer; the run of median throughput of each mode.</text>`+"\n", y+16)
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// scale maps v in [0, max] to [0, width].
func scale(v, max, width float64) float64 {
	if max <= 0 || v <= 0 {
		return 0
	}
	return v / max * width
}
