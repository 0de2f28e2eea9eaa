package crm

import "testing"

// TestImportRefreshesStatisticsAsItGrows: an import refreshes the
// planner's statistics after its 1st, 8th, 64th and 512th batch, each time
// the organisation it fills has grown eightfold, and not in between.
func TestImportRefreshesStatisticsAsItGrows(t *testing.T) {
	var after []int
	for batches := range 5000 {
		if refreshAfter(batches) {
			after = append(after, batches)
		}
	}
	want := []int{1, 8, 64, 512, 4096}
	if len(after) != len(want) {
		t.Fatalf("refreshes after batches %v, want %v", after, want)
	}
	for i := range want {
		if after[i] != want[i] {
			t.Fatalf("refreshes after batches %v, want %v", after, want)
		}
	}
}
