package i18n

import (
	"strings"
	"unicode"
)

// columnLabels are the headers of export columns per language, and the
// first name an import recognises for each column. A test checks that every
// language has every column.
var columnLabels = map[string]map[string]string{
	"en": {
		"id": "Id", "number": "Customer number", "firstName": "First name", "middleName": "Middle name",
		"lastName": "Last name", "company": "Company", "street": "Street", "houseNumber": "House number",
		"postalCode": "Postal code", "city": "City", "country": "Country", "phone": "Phone", "phones": "Phones",
		"email": "E-mail", "loginEmail": "Login e-mail", "altEmails": "Other e-mails", "birthDate": "Birth date",
		"passportExpiry": "Passport expiry", "status": "Status", "origin": "Origin", "firstContact": "First contact",
		"language": "Language", "assignedTo": "Assigned to", "noPost": "No post", "noMailings": "No mailings",
		"remarks": "Remarks", "internalDescription": "Internal description", "createdAt": "Created",
		"updatedAt": "Updated", "tags": "Tags", "attributes": "Attributes", "consent": "Consent",
	},
	"nl": {
		"id": "Id", "number": "Klantnummer", "firstName": "Voornaam", "middleName": "Tussenvoegsel",
		"lastName": "Achternaam", "company": "Bedrijf", "street": "Straat", "houseNumber": "Huisnummer",
		"postalCode": "Postcode", "city": "Plaats", "country": "Land", "phone": "Telefoon", "phones": "Telefoonnummers",
		"email": "E-mailadres", "loginEmail": "Inlog-e-mailadres", "altEmails": "Andere e-mailadressen", "birthDate": "Geboortedatum",
		"passportExpiry": "Paspoort geldig tot", "status": "Status", "origin": "Herkomst", "firstContact": "Eerste contact",
		"language": "Taal", "assignedTo": "Toegewezen aan", "noPost": "Geen post", "noMailings": "Geen mailings",
		"remarks": "Opmerkingen", "internalDescription": "Interne omschrijving", "createdAt": "Aangemaakt",
		"updatedAt": "Gewijzigd", "tags": "Tags", "attributes": "Kenmerken", "consent": "Toestemming",
	},
	"de": {
		"id": "Id", "number": "Kundennummer", "firstName": "Vorname", "middleName": "Zweiter Vorname",
		"lastName": "Nachname", "company": "Firma", "street": "Straße", "houseNumber": "Hausnummer",
		"postalCode": "Postleitzahl", "city": "Ort", "country": "Land", "phone": "Telefon", "phones": "Telefonnummern",
		"email": "E-Mail", "loginEmail": "Login-E-Mail", "altEmails": "Weitere E-Mails", "birthDate": "Geburtsdatum",
		"passportExpiry": "Reisepass gültig bis", "status": "Status", "origin": "Herkunft", "firstContact": "Erstkontakt",
		"language": "Sprache", "assignedTo": "Zuständig", "noPost": "Keine Post", "noMailings": "Keine Mailings",
		"remarks": "Bemerkungen", "internalDescription": "Interne Beschreibung", "createdAt": "Angelegt",
		"updatedAt": "Geändert", "tags": "Tags", "attributes": "Merkmale", "consent": "Einwilligung",
	},
	"fr": {
		"id": "Id", "number": "Numéro client", "firstName": "Prénom", "middleName": "Deuxième prénom",
		"lastName": "Nom", "company": "Société", "street": "Rue", "houseNumber": "Numéro",
		"postalCode": "Code postal", "city": "Ville", "country": "Pays", "phone": "Téléphone", "phones": "Téléphones",
		"email": "E-mail", "loginEmail": "E-mail de connexion", "altEmails": "Autres e-mails", "birthDate": "Date de naissance",
		"passportExpiry": "Expiration du passeport", "status": "Statut", "origin": "Origine", "firstContact": "Premier contact",
		"language": "Langue", "assignedTo": "Attribué à", "noPost": "Pas de courrier", "noMailings": "Pas de mailings",
		"remarks": "Remarques", "internalDescription": "Description interne", "createdAt": "Créé",
		"updatedAt": "Modifié", "tags": "Étiquettes", "attributes": "Attributs", "consent": "Consentement",
	},
	"pl": {
		"id": "Id", "number": "Numer klienta", "firstName": "Imię", "middleName": "Drugie imię",
		"lastName": "Nazwisko", "company": "Firma", "street": "Ulica", "houseNumber": "Numer domu",
		"postalCode": "Kod pocztowy", "city": "Miejscowość", "country": "Kraj", "phone": "Telefon", "phones": "Telefony",
		"email": "Adres e-mail", "loginEmail": "E-mail logowania", "altEmails": "Inne adresy e-mail", "birthDate": "Data urodzenia",
		"passportExpiry": "Ważność paszportu", "status": "Status", "origin": "Pochodzenie", "firstContact": "Pierwszy kontakt",
		"language": "Język", "assignedTo": "Przypisany do", "noPost": "Bez poczty", "noMailings": "Bez mailingów",
		"remarks": "Uwagi", "internalDescription": "Opis wewnętrzny", "createdAt": "Utworzono",
		"updatedAt": "Zmieniono", "tags": "Tagi", "attributes": "Atrybuty", "consent": "Zgoda",
	},
}

// columnSynonyms are further headers an import recognises, in the five
// languages, beyond the labels above.
var columnSynonyms = map[string][]string{
	"id":             {"customer id", "klant id", "kunden id", "uuid"},
	"number":         {"number", "no", "nr", "customer no", "klantnr", "kundennr", "numero client", "numer", "nr klienta"},
	"firstName":      {"given name", "forename", "first", "roepnaam", "vorname", "prenom", "imie"},
	"middleName":     {"middle", "tussenvoegsels", "infix", "zweitname"},
	"lastName":       {"surname", "family name", "last", "name", "naam", "familienaam", "familienname", "nom de famille", "nazwisko"},
	"company":        {"organisation", "organization", "company name", "bedrijfsnaam", "organisatie", "firmenname", "unternehmen", "entreprise", "societe", "nazwa firmy"},
	"street":         {"address", "street address", "adres", "straatnaam", "strasse", "adresse", "rue", "ulica", "adres ulica"},
	"houseNumber":    {"house no", "huisnr", "nr huis", "hausnr", "numero de rue", "nr domu"},
	"postalCode":     {"postcode", "zip", "zip code", "post code", "plz", "cp", "kod"},
	"city":           {"town", "woonplaats", "stad", "stadt", "wohnort", "localite", "miasto", "miejscowosc"},
	"country":        {"country code", "landcode", "pays", "panstwo"},
	"phone":          {"phone number", "telephone", "tel", "mobile", "mobile phone", "cell", "telefoonnummer", "mobiel", "telefonnummer", "handy", "mobil", "portable", "numero de telephone", "telephone portable", "numer telefonu", "tel komorkowy", "komorka"},
	"email":          {"email", "e mail", "email address", "e mail address", "mail", "emailadres", "e mailadres", "e mail adres", "e mail adresse", "emailadresse", "adresse e mail", "courriel", "adresse electronique", "email adres", "adres email", "adres e mail"},
	"loginEmail":     {"login", "login email"},
	"altEmails":      {"alternative emails", "other emails"},
	"birthDate":      {"date of birth", "dob", "birthday", "geboren", "geburtstag", "naissance", "data ur"},
	"origin":         {"source", "bron", "quelle", "provenance", "zrodlo"},
	"language":       {"lang", "taalcode", "langue", "jezyk"},
	"remarks":        {"notes", "note", "comments", "opmerking", "notities", "notizen", "anmerkungen", "commentaire", "notes internes", "notatki", "komentarz"},
	"tags":           {"tag", "label", "labels", "etiquette"},
	"attributes":     {"interests", "interesses", "interessen", "interets", "zainteresowania", "kenmerk"},
	"noMailings":     {"unsubscribed", "afgemeld"},
	"firstContact":   {"first contact date", "klant sinds", "kunde seit", "client depuis", "klient od"},
	"assignedTo":     {"owner", "account manager", "eigenaar", "betreuer", "responsable", "opiekun"},
	"passportExpiry": {"passport valid until"},
}

// ColumnLanguages are the languages of column headers.
func ColumnLanguages() []string { return []string{"en", "nl", "de", "fr", "pl"} }

// ColumnLabel returns the header of the column key in lang (its language,
// then English), or "" for an unknown key.
func ColumnLabel(lang, key string) string {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if l, ok := columnLabels[base][key]; ok {
		return l
	}
	return columnLabels["en"][key]
}

// ColumnFromHeader returns the column key an import header names, in any
// of the five languages ("E-mailadres", "Nachname", "Code postal"), or "".
// Case, accents, punctuation and spacing do not matter.
func ColumnFromHeader(header string) string {
	return headerIndex[HeaderKey(header)]
}

// HeaderKey is a header folded for comparison: lower case, without
// accents, punctuation turned into single spaces ("E-Mail-Adresse" →
// "e mail adresse").
func HeaderKey(header string) string {
	folded := SearchKey(header)
	var b strings.Builder
	space := false
	for _, r := range folded {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}

var headerIndex = func() map[string]string {
	idx := map[string]string{}
	for key, syns := range columnSynonyms {
		for _, s := range syns {
			idx[HeaderKey(s)] = key
		}
	}
	// Labels win over synonyms: "Name" is a last name in English
	// synonyms, but a label is exact.
	for _, lang := range ColumnLanguages() {
		for key, label := range columnLabels[lang] {
			if key == "consent" {
				continue
			}
			idx[HeaderKey(label)] = key
			idx[HeaderKey(key)] = key
		}
	}
	return idx
}()
