package crm

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// validEmail reports whether s is an e-mail address a mail server accepts
// in an SMTP envelope. The rule is the Mailbox of RFC 5321 (section 4.1.2),
// without the forms servers commonly refuse:
//
//   - The local part (before the last "@") is a Dot-string: atoms of
//     letters, digits and !#$%&'*+/=?^_`{|}~- separated by single dots, no
//     dot first or last, at most 64 octets. UTF-8 letters are allowed as
//     in RFC 6531 (SMTPUTF8). Quoted local parts ("a b"@example.nl) are
//     refused.
//   - The domain is a host name after RFC 1035 and RFC 1123: at least two
//     labels separated by dots; each label 1 to 63 octets of letters,
//     digits and hyphens, neither starting nor ending with a hyphen; the
//     whole at most 253 octets; the last label (the top-level domain) not
//     all digits. Address literals ([192.0.2.1]) are refused.
//     Internationalised domains are accepted as A-labels (xn--...) or as
//     U-labels, whose characters must be letters, digits, combining marks
//     or hyphens (the characters are checked, not the full IDNA2008 rules).
//   - The whole address is at most 254 octets (RFC 5321's path limit less
//     the angle brackets).
//
// So "anna@example.nl" and "o'brien+news@mail.example.co.uk" pass;
// "anna@-example.nl", "anna@example", "anna..b@example.nl", "Anna
// <anna@example.nl>" do not.
func validEmail(s string) bool {
	if len(s) > 254 || !utf8.ValidString(s) {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 {
		return false
	}
	return validLocalPart(s[:at]) && validHostName(s[at+1:])
}

// validLocalPart checks an RFC 5321 Dot-string (with RFC 6531's UTF-8).
func validLocalPart(local string) bool {
	for _, atom := range strings.Split(local, ".") {
		if atom == "" {
			return false // a leading, trailing or doubled dot
		}
		for _, r := range atom {
			if !isAtext(r) {
				return false
			}
		}
	}
	return true
}

// isAtext reports whether r may appear in an atom (RFC 5322 atext, plus
// non-ASCII letters, digits and marks as RFC 6531 allows).
func isAtext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case r < 0x80:
		return strings.ContainsRune("!#$%&'*+/=?^_`{|}~-", r)
	default:
		return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
	}
}

// validHostName checks a domain as an RFC 1035/1123 host name with at
// least two labels (see validEmail).
func validHostName(domain string) bool {
	if len(domain) > 253 {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			case r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)):
			default:
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.ContainsFunc(tld, func(r rune) bool { return r < '0' || r > '9' })
}
