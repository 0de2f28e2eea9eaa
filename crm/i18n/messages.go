package i18n

import "strings"

// catalogue holds the message texts per language. Messages are the end of a
// sentence that starts with a field name: "email" + " is not a valid e-mail
// address". A test checks that every language has every key.
var catalogue = map[string]map[string]string{
	"en": {
		"required":      "is required",
		"email":         "is not a valid e-mail address",
		"phone":         "is not a valid phone number",
		"language":      "is not a known language tag",
		"country":       "is not an ISO 3166-1 alpha-2 country code",
		"max":           "must be at most {param} characters long",
		"min":           "must be at least {param} characters long",
		"oneof":         "must be one of: {param}",
		"future":        "must not be in the future",
		"unknown_field": "is not a defined custom field",
		"unknown":       "does not exist",
		"type":          "must be a value of type {param}",
		"choice":        "must be one of the choices: {param}",
		"invalid":       "is not valid",
		"cursor":        "is not a valid cursor",
		"duplicate":     "appears more than once",
		"key":           "must start with a lower-case letter and contain only lower-case letters, digits and underscores",
		"date":          "is not a valid date (YYYY-MM-DD)",
		"number":        "must be a number",
		"limit":         "must be between 1 and {param}",
		"archived":      "is an archived custom field",
		"gt":            "must be greater than {param}",
		"version":       "must be a positive version number",
		"ip":            "is not a valid IP address",
		"doubleOptIn":   "cannot grant this purpose directly: it needs a confirmed double opt-in",
		"expired":       "has expired",
		"ne":            "must not be {param}",
		"minValue":      "must be at least {param}",
		"maxValue":      "must be at most {param}",
		"minItems":      "must have at least {param} items",
		"maxItems":      "must have at most {param} items",
		"noAddress":     "is missing: the customer has no e-mail address",
		"template":      "is not a valid template: {param}",
		"empty":         "is empty",
		"maxBytes":      "is larger than {param}",
		"wordingNeeded": "is required: the purpose has no wording to show the customer; add one to the purpose first",
		"customerSide":  "is only for consent that staff, an import or a booking recorded: the customer's own consent points at the wording the customer saw",
	},
	"nl": {
		"required":      "is verplicht",
		"email":         "is geen geldig e-mailadres",
		"phone":         "is geen geldig telefoonnummer",
		"language":      "is geen bekende taalcode",
		"country":       "is geen ISO 3166-1 alpha-2 landcode",
		"max":           "mag hoogstens {param} tekens lang zijn",
		"min":           "moet minstens {param} tekens lang zijn",
		"oneof":         "moet een van de volgende zijn: {param}",
		"future":        "mag niet in de toekomst liggen",
		"unknown_field": "is geen gedefinieerd aangepast veld",
		"unknown":       "bestaat niet",
		"type":          "moet een waarde van het type {param} zijn",
		"choice":        "moet een van de keuzes zijn: {param}",
		"invalid":       "is niet geldig",
		"cursor":        "is geen geldige cursor",
		"duplicate":     "komt meer dan één keer voor",
		"key":           "moet met een kleine letter beginnen en mag alleen kleine letters, cijfers en underscores bevatten",
		"date":          "is geen geldige datum (JJJJ-MM-DD)",
		"number":        "moet een getal zijn",
		"limit":         "moet tussen 1 en {param} liggen",
		"archived":      "is een gearchiveerd aangepast veld",
		"gt":            "moet groter zijn dan {param}",
		"version":       "moet een positief versienummer zijn",
		"ip":            "is geen geldig IP-adres",
		"doubleOptIn":   "kan dit doel niet rechtstreeks toestaan: het vraagt een bevestigde dubbele opt-in",
		"expired":       "is verlopen",
		"ne":            "mag niet {param} zijn",
		"minValue":      "moet minstens {param} zijn",
		"maxValue":      "mag hoogstens {param} zijn",
		"minItems":      "moet minstens {param} elementen hebben",
		"maxItems":      "mag hoogstens {param} elementen hebben",
		"noAddress":     "ontbreekt: de klant heeft geen e-mailadres",
		"template":      "is geen geldige template: {param}",
		"empty":         "is leeg",
		"maxBytes":      "is groter dan {param}",
		"wordingNeeded": "is verplicht: het doel heeft geen tekst om de klant te tonen; voeg er eerst een toe aan het doel",
		"customerSide":  "is alleen voor toestemming die medewerkers, een import of een boeking vastlegden: de eigen toestemming van de klant verwijst naar de tekst die de klant zag",
	},
	"de": {
		"required":      "ist erforderlich",
		"email":         "ist keine gültige E-Mail-Adresse",
		"phone":         "ist keine gültige Telefonnummer",
		"language":      "ist kein bekannter Sprachcode",
		"country":       "ist kein Ländercode nach ISO 3166-1 alpha-2",
		"max":           "darf höchstens {param} Zeichen lang sein",
		"min":           "muss mindestens {param} Zeichen lang sein",
		"oneof":         "muss einer dieser Werte sein: {param}",
		"future":        "darf nicht in der Zukunft liegen",
		"unknown_field": "ist kein angelegtes benutzerdefiniertes Feld",
		"unknown":       "existiert nicht",
		"type":          "muss ein Wert vom Typ {param} sein",
		"choice":        "muss eine der Auswahlmöglichkeiten sein: {param}",
		"invalid":       "ist ungültig",
		"cursor":        "ist kein gültiger Cursor",
		"duplicate":     "kommt mehr als einmal vor",
		"key":           "muss mit einem Kleinbuchstaben beginnen und darf nur Kleinbuchstaben, Ziffern und Unterstriche enthalten",
		"date":          "ist kein gültiges Datum (JJJJ-MM-TT)",
		"number":        "muss eine Zahl sein",
		"limit":         "muss zwischen 1 und {param} liegen",
		"archived":      "ist ein archiviertes benutzerdefiniertes Feld",
		"gt":            "muss größer als {param} sein",
		"version":       "muss eine positive Versionsnummer sein",
		"ip":            "ist keine gültige IP-Adresse",
		"doubleOptIn":   "kann diesen Zweck nicht direkt erteilen: er verlangt ein bestätigtes Double-Opt-in",
		"expired":       "ist abgelaufen",
		"ne":            "darf nicht {param} sein",
		"minValue":      "muss mindestens {param} sein",
		"maxValue":      "darf höchstens {param} sein",
		"minItems":      "muss mindestens {param} Einträge haben",
		"maxItems":      "darf höchstens {param} Einträge haben",
		"noAddress":     "fehlt: der Kunde hat keine E-Mail-Adresse",
		"template":      "ist keine gültige Vorlage: {param}",
		"empty":         "ist leer",
		"maxBytes":      "ist größer als {param}",
		"wordingNeeded": "ist erforderlich: der Zweck hat keinen Text, der dem Kunden gezeigt werden kann; fügen Sie dem Zweck zuerst einen hinzu",
		"customerSide":  "ist nur für Einwilligungen, die Mitarbeiter, ein Import oder eine Buchung erfasst haben: die eigene Einwilligung des Kunden verweist auf den Text, den der Kunde gesehen hat",
	},
}

// Languages lists the languages of the message catalogue, English first.
func Languages() []string { return []string{"en", "nl", "de"} }

// Message returns the text for key in the catalogue language that best
// serves lang (English when none does), with "{param}" replaced by param.
// An unknown key returns the key itself.
func Message(lang, key, param string) string {
	texts, ok := catalogue[lang] // the common case, spared the matcher
	if !ok {
		chosen, _ := Choose(Languages(), lang)
		texts = catalogue[chosen]
	}
	text, ok := texts[key]
	if !ok {
		if text, ok = catalogue["en"][key]; !ok {
			return key
		}
	}
	return strings.ReplaceAll(text, "{param}", param)
}
