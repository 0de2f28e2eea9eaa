package store

import "testing"

// TestPGArrayText: an array's elements are quoted, with each quote and
// backslash escaped, wherever they stand in the text, and NULL is bare.
func TestPGArrayText(t *testing.T) {
	var a pgArray
	for _, s := range []string{"", "plain", `"`, `\`, `a"b\c`, `""\\`, `end\`, `"start`, "{braces, commas}", "Łódź"} {
		a.add(s)
	}
	a.addNull()
	want := `{"","plain","\"","\\","a\"b\\c","\"\"\\\\","end\\","\"start","{braces, commas}","Łódź",NULL}`
	if got := a.String(); got != want {
		t.Errorf("array text\n%s\nwant\n%s", got, want)
	}
	var empty pgArray
	if got := empty.String(); got != "{}" {
		t.Errorf("empty array %s", got)
	}
}
