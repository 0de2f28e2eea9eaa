package i18n

import "strings"

// catalogue holds the message texts per language. Messages are the end of a
// sentence that starts with a field name: "email" + " is not a valid e-mail
// address"; those whose key starts with "problem." are whole sentences. A
// test checks that every language has every key.
var catalogue = map[string]map[string]string{
	"en": {
		// Rules of the HTTP API's schema checks (crm/httpapi).
		"unknownMember":       "is not a member this object takes",
		"unknownParameter":    "is not a parameter this route takes",
		"lt":                  "must be less than {param}",
		"dateTime":            "is not a valid date and time (RFC 3339, e.g. 2025-01-31T12:00:00Z)",
		"uuid":                "is not a valid UUID",
		"uri":                 "is not a valid URI",
		"pattern":             "does not have the required form: {param}",
		"multipleOf":          "must be a multiple of {param}",
		"json":                "is not valid JSON",
		"contentType":         "must be {param}",
		"single":              "must be given only once",
		"insufficient_points": "is more than the points available",
		"precondition":        "does not name the current version: read it again",
		// Whole sentences: the detail of the HTTP API's problems.
		"problem.invalid":            "the request has invalid fields",
		"problem.malformed":          "the request is malformed",
		"problem.contentType":        "the body's Content-Type is not one this route accepts",
		"problem.tooLarge":           "the body is larger than the server accepts",
		"problem.notFound":           "not found",
		"problem.noRoute":            "no such route: see /openapi.json",
		"problem.method":             "the route does not take this method: see Allow",
		"problem.unauthenticated":    "a valid API key is required: Authorization: Bearer <key>",
		"problem.stale":              "the resource was changed by someone else since the version in If-Match: read it again",
		"problem.ifMatchRequired":    "send the version you read in If-Match (the ETag of GET), so that you cannot overwrite a change you have not seen",
		"problem.conflict":           "the change conflicts with stored data",
		"problem.insufficientPoints": "not enough points: the points available today do not cover the request",
		"problem.tooMany":            "too many failed authentications from this address: try again after Retry-After seconds",
		"problem.forbidden":          "not allowed: the acting user may not do this",
		"problem.internal":           "internal error",
		"problem.unavailable":        "the service is unavailable for now: try again after Retry-After seconds",

		"timeZone":      "is not a known IANA time zone (e.g. Europe/Warsaw)",
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
		"utf8":          "is not valid UTF-8 text",
		"control":       "must not contain control characters (such as NUL)",
		"dateRange":     "must lie between 0001-01-01 and 9999-12-31",
		"wordingNeeded": "is required: the purpose has no wording to show the customer; add one to the purpose first",
		"notInForm":     "is not a field the form {param} collects",
		"customerSide":  "is only for consent that staff, an import or a booking recorded: the customer's own consent points at the wording the customer saw",

		// The portal, contests and mailings.
		"commonPassword":   "is too common: choose a password that is not on lists of often used passwords",
		"notEditable":      "cannot be changed from the portal",
		"closed":           "is closed: the contest does not take entries now",
		"mail.unsubscribe": "Unsubscribe",
	},
	"nl": {
		// Rules of the HTTP API's schema checks (crm/httpapi).
		"unknownMember":       "is geen onderdeel dat dit object kent",
		"unknownParameter":    "is geen parameter die deze route kent",
		"lt":                  "moet kleiner zijn dan {param}",
		"dateTime":            "is geen geldig tijdstip (RFC 3339, bijv. 2025-01-31T12:00:00Z)",
		"uuid":                "is geen geldige UUID",
		"uri":                 "is geen geldige URI",
		"pattern":             "heeft niet de vereiste vorm: {param}",
		"multipleOf":          "moet een veelvoud zijn van {param}",
		"json":                "is geen geldige JSON",
		"contentType":         "moet {param} zijn",
		"single":              "mag maar één keer voorkomen",
		"insufficient_points": "is meer dan de beschikbare punten",
		"precondition":        "noemt niet de huidige versie: lees opnieuw",
		// Whole sentences: the detail of the HTTP API's problems.
		"problem.invalid":            "het verzoek heeft ongeldige velden",
		"problem.malformed":          "het verzoek is misvormd",
		"problem.contentType":        "het Content-Type van de body is er geen die deze route aanneemt",
		"problem.tooLarge":           "de body is groter dan de server aanneemt",
		"problem.notFound":           "niet gevonden",
		"problem.noRoute":            "deze route bestaat niet: zie /openapi.json",
		"problem.method":             "de route neemt deze methode niet aan: zie Allow",
		"problem.unauthenticated":    "een geldige API-sleutel is vereist: Authorization: Bearer <key>",
		"problem.stale":              "de gegevens zijn door iemand anders gewijzigd sinds de versie in If-Match: lees ze opnieuw",
		"problem.ifMatchRequired":    "stuur de gelezen versie mee in If-Match (de ETag van GET), zodat u geen wijziging overschrijft die u niet hebt gezien",
		"problem.conflict":           "de wijziging botst met opgeslagen gegevens",
		"problem.insufficientPoints": "niet genoeg punten: de punten die vandaag beschikbaar zijn dekken het verzoek niet",
		"problem.tooMany":            "te veel mislukte aanmeldingen vanaf dit adres: probeer het opnieuw na Retry-After seconden",
		"problem.forbidden":          "niet toegestaan: de handelende gebruiker mag dit niet doen",
		"problem.internal":           "interne fout",
		"problem.unavailable":        "de dienst is nu niet beschikbaar: probeer het over Retry-After seconden opnieuw",

		"timeZone":      "is geen bekende IANA-tijdzone (bijv. Europe/Amsterdam)",
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
		"utf8":          "is geen geldige UTF-8-tekst",
		"control":       "mag geen stuurtekens (zoals NUL) bevatten",
		"dateRange":     "moet tussen 0001-01-01 en 9999-12-31 liggen",
		"wordingNeeded": "is verplicht: het doel heeft geen tekst om de klant te tonen; voeg er eerst een toe aan het doel",
		"notInForm":     "is geen veld dat het formulier {param} vraagt",
		"customerSide":  "is alleen voor toestemming die medewerkers, een import of een boeking vastlegden: de eigen toestemming van de klant verwijst naar de tekst die de klant zag",

		// The portal, contests and mailings.
		"commonPassword":   "komt te vaak voor: kies een wachtwoord dat niet op lijsten van veelgebruikte wachtwoorden staat",
		"notEditable":      "kan niet in het portaal worden gewijzigd",
		"closed":           "is gesloten: de wedstrijd neemt nu geen deelnames aan",
		"mail.unsubscribe": "Afmelden",
	},
	"de": {
		// Rules of the HTTP API's schema checks (crm/httpapi).
		"unknownMember":       "ist kein Element, das dieses Objekt kennt",
		"unknownParameter":    "ist kein Parameter, den diese Route kennt",
		"lt":                  "muss kleiner als {param} sein",
		"dateTime":            "ist kein gültiger Zeitpunkt (RFC 3339, z. B. 2025-01-31T12:00:00Z)",
		"uuid":                "ist keine gültige UUID",
		"uri":                 "ist keine gültige URI",
		"pattern":             "hat nicht die verlangte Form: {param}",
		"multipleOf":          "muss ein Vielfaches von {param} sein",
		"json":                "ist kein gültiges JSON",
		"contentType":         "muss {param} sein",
		"single":              "darf nur einmal vorkommen",
		"insufficient_points": "ist mehr als die verfügbaren Punkte",
		"precondition":        "nennt nicht die aktuelle Version: erneut lesen",
		// Whole sentences: the detail of the HTTP API's problems.
		"problem.invalid":            "die Anfrage enthält ungültige Felder",
		"problem.malformed":          "die Anfrage ist fehlerhaft aufgebaut",
		"problem.contentType":        "der Content-Type des Bodys ist keiner, den diese Route annimmt",
		"problem.tooLarge":           "der Body ist größer, als der Server annimmt",
		"problem.notFound":           "nicht gefunden",
		"problem.noRoute":            "diese Route gibt es nicht: siehe /openapi.json",
		"problem.method":             "die Route nimmt diese Methode nicht an: siehe Allow",
		"problem.unauthenticated":    "ein gültiger API-Schlüssel ist erforderlich: Authorization: Bearer <key>",
		"problem.stale":              "die Daten wurden seit der Version in If-Match von jemand anderem geändert: lesen Sie sie erneut",
		"problem.ifMatchRequired":    "senden Sie die gelesene Version in If-Match (das ETag von GET), damit Sie keine Änderung überschreiben, die Sie nicht gesehen haben",
		"problem.conflict":           "die Änderung widerspricht gespeicherten Daten",
		"problem.insufficientPoints": "nicht genug Punkte: die heute verfügbaren Punkte decken die Anfrage nicht",
		"problem.tooMany":            "zu viele fehlgeschlagene Anmeldungen von dieser Adresse: versuchen Sie es nach Retry-After Sekunden erneut",
		"problem.forbidden":          "nicht erlaubt: der handelnde Benutzer darf dies nicht tun",
		"problem.internal":           "interner Fehler",
		"problem.unavailable":        "der Dienst ist gerade nicht verfügbar: versuchen Sie es nach Retry-After Sekunden erneut",

		"timeZone":      "ist keine bekannte IANA-Zeitzone (z. B. Europe/Berlin)",
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
		"utf8":          "ist kein gültiger UTF-8-Text",
		"control":       "darf keine Steuerzeichen (wie NUL) enthalten",
		"dateRange":     "muss zwischen 0001-01-01 und 9999-12-31 liegen",
		"wordingNeeded": "ist erforderlich: der Zweck hat keinen Text, der dem Kunden gezeigt werden kann; fügen Sie dem Zweck zuerst einen hinzu",
		"notInForm":     "ist kein Feld, das das Formular {param} erfasst",
		"customerSide":  "ist nur für Einwilligungen, die Mitarbeiter, ein Import oder eine Buchung erfasst haben: die eigene Einwilligung des Kunden verweist auf den Text, den der Kunde gesehen hat",

		// The portal, contests and mailings.
		"commonPassword":   "ist zu verbreitet: wählen Sie ein Passwort, das nicht auf Listen häufig benutzter Passwörter steht",
		"notEditable":      "kann im Portal nicht geändert werden",
		"closed":           "ist geschlossen: das Gewinnspiel nimmt jetzt keine Teilnahmen an",
		"mail.unsubscribe": "Abmelden",
	},
}

// partial holds the messages of languages the catalogue does not have
// whole: what an interaction from a form is refused with (the forms of
// French and Polish businesses), each "required", "notInForm", "oneof" and
// "unknown". A key a language lacks falls back to English.
var partial = map[string]map[string]string{
	"fr": {
		"required":  "est obligatoire",
		"notInForm": "n'est pas un champ que le formulaire {param} recueille",
		"oneof":     "doit être l'une des valeurs : {param}",
		"unknown":   "n'existe pas",
	},
	"pl": {
		"required":  "jest wymagane",
		"notInForm": "nie jest polem, które zbiera formularz {param}",
		"oneof":     "musi być jedną z wartości: {param}",
		"unknown":   "nie istnieje",
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
		if text, ok := partialMessage(lang, key); ok {
			return strings.ReplaceAll(text, "{param}", param)
		}
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

// partialMessage returns key's text in lang from the partial catalogues,
// when lang (or its base language: "fr-BE" is "fr") has one.
func partialMessage(lang, key string) (string, bool) {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	text, ok := partial[base][key]
	return text, ok
}
