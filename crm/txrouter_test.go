package crm

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"testing"
)

// TestTxRouterForwardsEveryMethod keeps the idempotent creates atomic: a
// Store method that txRouter only inherits would run outside the call's
// transaction. Run go generate ./crm when it fails.
func TestTxRouterForwardsEveryMethod(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "txrouter_gen.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]bool{"InTx": true}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil {
			own[fn.Name.Name] = true
		}
	}
	st := reflect.TypeFor[Store]()
	for i := range st.NumMethod() {
		if name := st.Method(i).Name; !own[name] {
			t.Errorf("txRouter does not forward %s: run go generate ./crm", name)
		}
	}
}
