package httpapi

import "testing"

func TestInvalidJSONText(t *testing.T) {
	for _, tc := range []struct {
		body   string
		member string
		bad    bool
	}{
		{`{"lastName": "Müller"}`, "", false},
		{`{"lastName": "\ud83d\ude00", "x": "\uD83D\uDE00"}`, "", false},
		{`{"lastName": "\\ud800"}`, "", false},  // a backslash and "ud800", no escape
		{`{"note": "\u00e9\u0000"}`, "", false}, // NUL is valid UTF-8: the library refuses it
		{"{\"lastName\": \"M\xff\xfeller\"}", "lastName", true},
		{"{\"a\": 1, \"b\": [true, null, {\"c\": \"\xc0\xaf\"}]}", "b[2].c", true},
		{`{"phones": [{"number": "1"}, {"number": "\ud800\u0041"}]}`, "phones[1].number", true},
		{`{"address": {"city": "\udc00"}}`, "address.city", true},
		{`{"address": {"city": "x"}, "tail": "\ud800"}`, "tail", true},
		{`["ok", "\ud800"]`, "[1]", true},
		{"{\"last\xffName\": \"X\"}", "", true},
		{"{\"lastName\": \"X\"} \xff", "", true},
		{`{"a": "\ud800`, "", true},
	} {
		member, bad := invalidJSONText([]byte(tc.body))
		if member != tc.member || bad != tc.bad {
			t.Errorf("invalidJSONText(%q) = %q, %v; want %q, %v", tc.body, member, bad, tc.member, tc.bad)
		}
	}
}
