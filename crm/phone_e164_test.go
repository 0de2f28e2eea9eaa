package crm

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// TestParseE164MatchesParse: for numbers in E.164 form, valid and not,
// of every region and non-geographic entity (the metadata's example
// numbers of each type, and those with a digit changed, added, removed,
// a national prefix or leading zeros put in front, and random digits),
// parsePhoneOnce's shortcut gives what phonenumbers.Parse gives, with any
// default region; and it does take the shortcut for most valid numbers.
func TestParseE164MatchesParse(t *testing.T) {
	r := rand.New(rand.NewPCG(164, 1))
	type example struct {
		cc     int
		nsn    string
		region string
	}
	var examples []example
	add := func(num *phonenumbers.PhoneNumber, region string) {
		if num != nil {
			examples = append(examples, example{int(num.GetCountryCode()), phonenumbers.GetNationalSignificantNumber(num), region})
		}
	}
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	for region := range phonenumbers.GetSupportedRegions() {
		for _, ty := range types {
			add(phonenumbers.GetExampleNumberForType(region, ty), region)
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		add(phonenumbers.GetExampleNumberForNonGeoEntity(cc), "ZZ")
	}
	if len(examples) < 1000 {
		t.Fatalf("only %d example numbers", len(examples))
	}
	validExamples, shortcut := 0, 0
	check := func(raw, region string) {
		for _, def := range []string{"ZZ", region, "NL"} {
			want, wantOK := parsePhoneFully(raw, def)
			if got, ok := parsePhoneOnce(raw, def); got != want || ok != wantOK {
				t.Errorf("parsePhoneOnce(%q, %q) = %q %v, Parse gives %q %v", raw, def, got, ok, want, wantOK)
			}
		}
	}
	for _, ex := range examples {
		plus := "+" + strconv.Itoa(ex.cc)
		raw := plus + ex.nsn
		if _, ok := parsePhoneFully(raw, "ZZ"); ok {
			validExamples++
			if _, _, decided := parseE164(raw); decided {
				shortcut++
			}
		}
		variants := []string{raw, raw[:len(raw)-1], raw + strconv.Itoa(r.IntN(10)),
			plus + "0" + ex.nsn, plus + "00" + ex.nsn, plus + "1" + ex.nsn, plus + "8" + ex.nsn, plus + "9" + ex.nsn}
		if ndd := phonenumbers.GetNddPrefixForRegion(ex.region, true); ndd != "" {
			variants = append(variants, plus+ndd+ex.nsn)
		}
		for range 3 {
			b := []byte(raw)
			i := len(plus) + r.IntN(len(ex.nsn))
			b[i] = byte('0' + r.IntN(10))
			variants = append(variants, string(b))
		}
		random := make([]byte, 3+r.IntN(13))
		for i := range random {
			random[i] = byte('0' + r.IntN(10))
		}
		variants = append(variants, plus+string(random))
		for _, v := range variants {
			check(v, ex.region)
		}
	}
	// Not E.164: always Parse.
	for _, raw := range []string{"+31 6 12345678", "0612345678", "+31612345678 ext. 12", "+31612345678;ext=1", "tel:+31612345678", "+0031612345678", "+", "+1"} {
		if _, _, decided := parseE164(raw); decided {
			t.Errorf("parseE164(%q) decided, want it left to Parse", raw)
		}
		check(raw, "NL")
	}
	if shortcut*10 < validExamples*9 {
		t.Errorf("the shortcut read %d of %d valid example numbers, want at least nine in ten", shortcut, validExamples)
	}
	t.Logf("%d example numbers, %d valid, %d read by the shortcut", len(examples), validExamples, shortcut)
}

// BenchmarkParsePhone: a number in E.164 form through parsePhoneOnce
// (the shortcut) and through phonenumbers.Parse.
func BenchmarkParsePhone(b *testing.B) {
	nums := make([]string, 1000)
	for i := range nums {
		nums[i] = "+3161" + strconv.Itoa(1000000+i*7919%9000000)
	}
	b.Run("shortcut", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, ok := parsePhoneOnce(nums[i%len(nums)], "NL"); !ok {
				b.Fatal(nums[i%len(nums)])
			}
		}
	})
	b.Run("parse", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, ok := parsePhoneFully(nums[i%len(nums)], "NL"); !ok {
				b.Fatal(nums[i%len(nums)])
			}
		}
	})
}
