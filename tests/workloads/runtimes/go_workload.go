// One behaviour of a Go program, for the runtime corpus. Prints "ready", then "figure NAME VALUE" lines from
// runtime.ReadMemStats: the runtime's own account of its heap.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

var kept [][]byte

func figure() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fmt.Printf("figure heap_alloc %d\nfigure heap_inuse %d\nfigure heap_idle %d\nfigure heap_released %d\n", m.HeapAlloc, m.HeapInuse, m.HeapIdle, m.HeapReleased)
}

func main() {
	mode := os.Args[1]
	if mode == "stable" {
		for i := 0; i < 50; i++ {
			kept = append(kept, make([]byte, 1<<20))
		}
	}
	fmt.Println("ready")
	for n := 0; ; n++ {
		switch mode {
		case "leak":
			// About 3 MiB/s kept alive.
			for i := 0; i < 300; i++ {
				b := make([]byte, 1024)
				b[0] = 1
				kept = append(kept, b)
			}
			time.Sleep(100 * time.Millisecond)
		case "churn":
			garbage := make([][]byte, 0, 2000)
			for i := 0; i < 2000; i++ {
				garbage = append(garbage, make([]byte, 1024))
			}
			_ = garbage
			time.Sleep(20 * time.Millisecond)
		default:
			time.Sleep(time.Second)
		}
		if n%10 == 0 {
			figure()
		}
	}
}
