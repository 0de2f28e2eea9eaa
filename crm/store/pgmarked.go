package store

import (
	"database/sql/driver"
	"strconv"
	"strings"
)

// Marked statements (prepared.go) on PostgreSQL: kept prepared, planned
// once inside write transactions.
//
// bun writes every value into a statement's text, so the server parsed
// and planned each marked statement anew: at a million customers an
// interaction's match (a UNION of four index lookups) took 0.3 to 0.6 ms
// of planning for 0.2 ms of execution, its customer read and update 0.1
// to 0.25 ms each (pg_stat_statements). With the values taken out as
// parameters the text is the same for every call, the connection keeps
// it prepared (pgstmts.go), and the store's write transactions, which run
// with plan_cache_mode = auto (keyedWriteSettings), reuse a generic plan
// once it is as cheap as a fresh one. Reads outside them still plan for
// their values (force_custom_plan) but save the parse.
//
// Only values whose type the server can tell from where they stand become
// parameters: a value compared with a column (after =, <, >, <=, >=, <>),
// an element of an IN, ANY or VALUES list, an assignment of an UPDATE's
// SET. A parameter anywhere else (a constant in a select list, a
// function's argument) would have no type, and its statement would fail
// to prepare, aborting the transaction; such values stay in the text, as
// do NULL, TRUE and FALSE, LIMIT counts, LIKE patterns (after a word) and
// the operands of an operator other than a comparison ('a' || 'b').
// Every parameter is sent as text, which the server reads with the input
// function of the type it inferred: what the literal gave.

// pgMarkedArgs returns a marked statement with its typed values taken out
// as $n placeholders and text arguments; ok is false for a statement that
// is not marked, has no such value, or that the scan does not fully read
// (a placeholder or dollar quote already there, a prefixed string).
func pgMarkedArgs(query string) (string, []driver.NamedValue, bool) {
	if !strings.HasPrefix(query, preparedMarker) {
		return "", nil, false
	}
	var b strings.Builder
	b.Grow(len(query))
	var args []driver.NamedValue
	copied := 0 // query[:copied] is in b
	// prev is the last byte of the previous token ('a' for a word or a
	// value, 'o' for an operator), word the previous token when it was a
	// word, upper-cased, op when it was an operator.
	var prev byte
	var word, op string
	// lists holds, for each open parenthesis, whether it opened a list
	// of values (IN, ANY, VALUES, and the tuples after a VALUES tuple).
	var lists []bool
	closedList := false // the previous token closed a list
	tuples := false     // a comma after a closed list: the next tuple of VALUES
	// column: the previous token was a column's name; inColumn: the
	// token before IN was, and inStart is where IN starts.
	column, inColumn, inStart := false, false, 0
	param := func(val string) {
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(len(args) + 1))
		args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: val})
	}
	take := func(start, end int, val string) {
		b.WriteString(query[copied:start])
		param(val)
		copied = end
	}
	typed := func() bool {
		switch prev {
		case 'o':
			// Comparisons only: after ->> or || a parameter's type is
			// not one the server can tell.
			switch op {
			case "=", "<", ">", "<=", ">=", "<>", "!=":
				return true
			}
		case '(', ',':
			return len(lists) > 0 && lists[len(lists)-1]
		}
		return false
	}
	for i := skipSpaceAndComments(query, len(preparedMarker)); i < len(query); i = skipSpaceAndComments(query, i) {
		c := query[i]
		switch {
		case c == '"':
			end := skipQuoted(query, i)
			if end < 0 {
				return "", nil, false
			}
			i, prev, word = end, 'a', ""
			column, tuples, closedList = true, false, false
			continue
		case c == '\'':
			end := skipQuoted(query, i)
			if end < 0 {
				return "", nil, false
			}
			if typed() && !operatorAfter(query, end) {
				take(i, end, strings.ReplaceAll(query[i+1:end-1], "''", "'"))
			}
			i, prev, word = end, 'a', ""
		case c >= '0' && c <= '9':
			end := i
			for end < len(query) && (isIdentByte(query[end]) || query[end] == '.') {
				end++
			}
			if typed() && !operatorAfter(query, end) {
				take(i, end, query[i:end])
			}
			i, prev, word = end, 'a', ""
		case isIdentByte(c):
			j := i
			for j < len(query) && isIdentByte(query[j]) {
				j++
			}
			if j < len(query) && query[j] == '\'' {
				return "", nil, false // E'...', B'...': read by no rule here
			}
			w := scanWord(query[i:j])
			if (w == "SELECT" || w == "WITH") && prev == '(' && len(lists) > 0 {
				lists[len(lists)-1] = false // IN (SELECT ...): a subquery, not a list
			}
			if w == "IN" {
				inColumn, inStart = column, i
			}
			i, prev, word = j, 'a', w
			column = !sqlKeywords[w]
			tuples, closedList = false, false
			continue
		case c == '(' && word == "IN" && inColumn:
			// column IN ('a', 'b', ...) becomes column = ANY($n), one
			// array parameter whatever the list's length: a statement
			// per length would fill the connection's kept statements.
			if end, values, ok := literalList(query, i); ok {
				b.WriteString(query[copied:inStart])
				var arr pgArray
				for _, v := range values {
					arr.add(v)
				}
				b.WriteString("= ANY(")
				param(arr.String())
				b.WriteByte(')')
				copied = end
				i, prev, word = end, ')', ""
				column, tuples, closedList = false, false, false
				continue
			}
			lists = append(lists, true)
			i, prev, word = i+1, c, ""
		case c == '(':
			list := prev == 'a' && (word == "IN" || word == "ANY" || word == "VALUES") || prev == ',' && tuples ||
				(prev == '(' || prev == ',') && len(lists) > 0 && lists[len(lists)-1] // a row of a list
			lists = append(lists, list)
			i, prev, word = i+1, c, ""
		case c == ')':
			if len(lists) == 0 {
				return "", nil, false
			}
			closedList = lists[len(lists)-1]
			lists = lists[:len(lists)-1]
			i, prev, word = i+1, c, ""
			tuples = false
			continue
		case strings.IndexByte(pgOperatorBytes, c) >= 0:
			j := i
			for j < len(query) && strings.IndexByte(pgOperatorBytes, query[j]) >= 0 {
				j++
			}
			i, prev, word, op = j, 'o', "", query[i:j]
		case c == '?' || c == '$' || c == ';':
			// A placeholder or a dollar quote: the statement has its own
			// arguments; or a second statement.
			return "", nil, false
		default:
			i, prev, word = i+1, c, ""
		}
		tuples = c == ',' && closedList
		closedList = false
		column = false
	}
	if len(args) == 0 {
		return "", nil, false
	}
	b.WriteString(query[copied:])
	return b.String(), args, true
}

// sqlKeywords are the words before IN that are not a column's name.
var sqlKeywords = map[string]bool{"NOT": true, "AND": true, "OR": true, "WHERE": true, "ON": true, "WHEN": true,
	"THEN": true, "ELSE": true, "SELECT": true, "BY": true, "HAVING": true, "NULL": true, "TRUE": true, "FALSE": true}

// scanWords are the words the scan of pgMarkedArgs acts on, upper-cased:
// sqlKeywords and the words that open a list or a subquery.
var scanWords = func() map[string]string {
	m := map[string]string{"IN": "IN", "ANY": "ANY", "VALUES": "VALUES", "WITH": "WITH"}
	for w := range sqlKeywords {
		m[w] = w
	}
	return m
}()

// scanWordMax is the length of the longest of scanWords.
const scanWordMax = 6

// scanWord returns w upper-cased when it is one of scanWords, "" for any
// other word (a column's name, a table's, another keyword). Upper-casing
// every word allocated a string for each: 4% of the process's CPU in a
// read of a customer by id over HTTP, which names some fifty columns.
func scanWord(w string) string {
	if len(w) > scanWordMax {
		return ""
	}
	var buf [scanWordMax]byte
	for i := range len(w) {
		c := w[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return scanWords[string(buf[:len(w)])]
}

// literalList reads a list of string and number literals, (...) at
// query[open]: their values, and where the list ends; ok is false for
// any other content.
func literalList(query string, open int) (int, []string, bool) {
	var values []string
	i := open + 1
	for {
		i = skipSpace(query, i)
		if i >= len(query) {
			return 0, nil, false
		}
		switch c := query[i]; {
		case c == '\'':
			end := skipQuoted(query, i)
			if end < 0 {
				return 0, nil, false
			}
			values = append(values, strings.ReplaceAll(query[i+1:end-1], "''", "'"))
			i = end
		case c >= '0' && c <= '9':
			end := i
			for end < len(query) && (isIdentByte(query[end]) || query[end] == '.') {
				end++
			}
			values = append(values, query[i:end])
			i = end
		default:
			return 0, nil, false
		}
		i = skipSpace(query, i)
		if i >= len(query) {
			return 0, nil, false
		}
		switch query[i] {
		case ',':
			i++
		case ')':
			return i + 1, values, true
		default:
			return 0, nil, false
		}
	}
}

// operatorAfter reports whether an operator other than a cast follows
// query[:i]: a value that is an operand of one ('a' || 'b', 5 + 1) stays
// in the text, where the other operand gives the server its type.
func operatorAfter(query string, i int) bool {
	i = skipSpaceAndComments(query, i)
	if i >= len(query) || strings.HasPrefix(query[i:], "::") {
		return false
	}
	return strings.IndexByte(pgOperatorBytes, query[i]) >= 0
}

// pgOperatorBytes are the bytes of PostgreSQL's operators (but ?, which
// ends the scan).
const pgOperatorBytes = "+-*/<>=~!@#%^&|`"
