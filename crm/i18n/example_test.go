package i18n_test

import (
	"fmt"

	"github.com/dossiercrm/dossier/crm/i18n"
)

func ExampleSearchKey() {
	fmt.Println(i18n.SearchKey("Émile Zoë"))
	fmt.Println(i18n.SearchKey("STRAßE"))
	fmt.Println(i18n.SearchKey("Łukasz Søndergaard"))
	// Output:
	// emile zoe
	// strasse
	// lukasz sondergaard
}

func ExampleSearchKeys() {
	fmt.Printf("%q\n", i18n.SearchKeys("O’Brien"))
	fmt.Printf("%q\n", i18n.SearchKeys("Jean-Luc Müller"))
	// Output:
	// ["obrien"]
	// ["jean luc muller" "jeanluc muller" "jean luc mueller" "jeanluc mueller"]
}

func ExampleChoose() {
	available := []string{"en", "nl", "de"} // the first is the fallback
	fmt.Println(i18n.Choose(available, "nl-BE"))
	fmt.Println(i18n.Choose(available, "sv"))
	// Output:
	// nl true
	// en false
}
