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

func ExampleChoose() {
	available := []string{"en", "nl", "de"} // the first is the fallback
	fmt.Println(i18n.Choose(available, "nl-BE"))
	fmt.Println(i18n.Choose(available, "sv"))
	// Output:
	// nl true
	// en false
}
