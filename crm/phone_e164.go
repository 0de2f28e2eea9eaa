package crm

import (
	"regexp"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Numbers that arrive in E.164 form already ("+31612345678": from a booking
// platform, an interaction, the export of Dossier itself) are read without
// phonenumbers.Parse. Parse runs a dozen regular expressions over the text
// (looking for an extension, an RFC 3966 context, punctuation) before it
// reaches the digits: 22 µs a number (BenchmarkParsePhone), a tenth of an
// import's time in its profile. For a "+" followed by digits those find nothing, and what is left
// of Parse is splitting off the country calling code, which is prefix-free,
// and, where the main region of that code has a national prefix for
// parsing, stripping it. parseE164 does the first and leaves any number
// that begins with such a prefix to Parse, so that it returns what Parse
// would (TestParseE164MatchesParse compares them for every region).

// parseE164 returns the number raw in E.164 form when raw is one ("+" and
// digits), valid, and read the same way by phonenumbers.Parse; decided is
// false when raw must go through parsePhoneOnce's Parse instead.
func parseE164(raw string) (e164 string, ok, decided bool) {
	if len(raw) < 4 || len(raw) > 18 || raw[0] != '+' || raw[1] == '0' {
		return "", false, false
	}
	for i := 1; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return "", false, false
		}
	}
	digits := raw[1:]
	cc, nsn := 0, ""
	for n := 1; n <= 3 && n < len(digits); n++ {
		code, _ := strconv.Atoi(digits[:n])
		if phonenumbers.GetRegionCodeForCountryCode(code) != phonenumbers.UNKNOWN_REGION {
			cc, nsn = code, digits[n:]
			break
		}
	}
	if cc == 0 || len(nsn) < phonenumbers.MIN_LENGTH_FOR_NSN || len(nsn) > phonenumbers.MAX_LENGTH_FOR_NSN {
		return "", false, false
	}
	prefixes := nationalPrefixForParsing()
	if prefixes == nil {
		return "", false, false
	}
	if prefix := prefixes[cc]; prefix != nil && prefix.MatchString(nsn) {
		return "", false, false // Parse may strip or rewrite the start
	}
	national, err := strconv.ParseUint(nsn, 10, 64)
	if err != nil {
		return "", false, false
	}
	num := &phonenumbers.PhoneNumber{CountryCode: new(int32(cc)), NationalNumber: &national}
	if nsn[0] == '0' && len(nsn) > 1 {
		// Parse's setItalianLeadingZerosForPhoneNumber: the zeros that
		// the integer loses, the last digit never counted among them.
		num.ItalianLeadingZero = new(true)
		zeros := 1
		for zeros < len(nsn)-1 && nsn[zeros] == '0' {
			zeros++
		}
		if zeros != 1 {
			num.NumberOfLeadingZeros = new(int32(zeros))
		}
	}
	e164, ok = checkedE164(num)
	return e164, ok, true
}

// checkedE164 is num in E.164 form if it is a valid number of at most 15
// digits.
func checkedE164(num *phonenumbers.PhoneNumber) (string, bool) {
	if !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if len(e164) > 16 {
		// E.164 allows 15 digits; the metadata of some countries (Germany)
		// accepts longer ones, which no network routes.
		return "", false
	}
	return e164, true
}

// nationalPrefixForParsing is, by country calling code, the national
// prefix pattern of the region whose metadata Parse uses for the code
// (its main region, or the non-geographic entity), anchored at the start
// as Parse anchors it; codes without one are absent.
var nationalPrefixForParsing = sync.OnceValue(func() map[int]*regexp.Regexp {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil // parseE164 then leaves every number to Parse
	}
	out := map[int]*regexp.Regexp{}
	for _, m := range coll.GetMetadata() {
		code := int(m.GetCountryCode())
		if m.GetId() != phonenumbers.GetRegionCodeForCountryCode(code) {
			continue // not the metadata Parse reads for this code
		}
		if p := m.GetNationalPrefixForParsing(); p != "" {
			out[code] = regexp.MustCompile("^(?:" + p + ")")
		}
	}
	return out
})
