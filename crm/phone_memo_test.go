package crm

import (
	"fmt"
	"sync"
	"testing"
)

// TestParsePhoneMemo: the remembered outcomes of parsePhone are those of
// a parse, also when numbers share a slot and callers run concurrently.
func TestParsePhoneMemo(t *testing.T) {
	var inputs [][2]string
	for i := range 3000 {
		inputs = append(inputs, [2]string{fmt.Sprintf("06 %08d", i), "NL"}, [2]string{fmt.Sprintf("+49 30 %07d", i), ""},
			[2]string{fmt.Sprintf("+3161%07d", i), "BE"}, [2]string{fmt.Sprintf("12%d", i), "NL"})
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 2 {
				for i := w; i < len(inputs); i += 1 + round {
					in := inputs[i]
					region := in[1]
					if region == "" {
						region = "ZZ"
					}
					want, wantOK := parsePhoneOnce(in[0], region)
					if got, ok := parsePhone(in[0], in[1]); got != want || ok != wantOK {
						t.Errorf("parsePhone(%q, %q) = %q %v, want %q %v", in[0], in[1], got, ok, want, wantOK)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
