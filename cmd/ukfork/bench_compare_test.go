package main

import (
	"fmt"
	"testing"
)

func TestParseMetrics(t *testing.T) {
	out := []byte("fork -> child median 840.5 first 900 100th 850\n" +
		"mmap and munmap 64 KiB median 12.9 first 70.9 100th 11.4\n" +
		"not a metric line\n" +
		"42 alone\n")
	got := parseMetrics(out)
	want := []string{
		"fork -> child map[100th:850 first:900 median:840.5]",
		"mmap and munmap 64 KiB map[100th:11.4 first:70.9 median:12.9]",
	}
	if len(got) != len(want) {
		t.Fatalf("parsed %d metrics, want %d: %+v", len(got), len(want), got)
	}
	for i, m := range got {
		if s := fmt.Sprint(m.name, " ", m.values); s != want[i] {
			t.Errorf("metric %d = %q, want %q", i, s, want[i])
		}
	}
}
