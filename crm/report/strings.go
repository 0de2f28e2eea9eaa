package report

import (
	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/i18n"
)

// msg is one text of the report that depends on its language.
type msg int

const (
	msgTitle msg = iota
	msgInternal
	msgGenerated
	msgBy
	msgPage
	msgOf
	msgNone

	msgCustomer
	msgName
	msgNumber
	msgCompany
	msgAddress
	msgPhones
	msgEmails
	msgLogin
	msgBirthDate
	msgLanguage
	msgStatus
	msgFirstContact
	msgRemarks
	msgInternalDescription
	msgAnonymised

	msgTags
	msgAttributes
	msgLabels
	msgLabel
	msgMemberUntil
	msgConsents
	msgPurpose
	msgState
	msgSince
	msgAwaitingConfirmation
	msgPoints
	msgAvailable
	msgPending
	msgExpired
	msgHistory
	msgDate
	msgEvent
	msgActor
	msgFields

	msgStatusLead
	msgStatusProspect
	msgStatusCustomer
	msgStatusInactive
	msgConsentGranted
	msgConsentWithdrawn
	msgConsentPending
	msgConsentNever
	msgPhoneMobile
	msgPhoneHome
	msgPhoneWork
	msgPhoneOther

	msgCount // the number of texts; not a text
)

// words are the texts of one language, indexed by msg.
type words [msgCount]string

// languages are the languages the report is written in; the first is the
// fallback.
var languages = []string{"en", "nl", "de", "fr", "pl"}

// texts holds every text in every language of languages. A test checks
// that none is missing.
var texts = map[string]*words{
	"en": {
		msgTitle: "Customer report", msgInternal: "Internal document", msgGenerated: "Generated", msgBy: "by",
		msgPage: "Page", msgOf: "of", msgNone: "None",
		msgCustomer: "Customer", msgName: "Name", msgNumber: "Customer number", msgCompany: "Company",
		msgAddress: "Address", msgPhones: "Phone numbers", msgEmails: "E-mail addresses", msgLogin: "Portal login",
		msgBirthDate: "Date of birth", msgLanguage: "Language", msgStatus: "Status", msgFirstContact: "First contact",
		msgRemarks: "Remarks", msgInternalDescription: "Internal description", msgAnonymised: "Anonymised",
		msgTags: "Tags", msgAttributes: "Attributes and interests", msgLabels: "Labels", msgLabel: "Label",
		msgMemberUntil: "Member until", msgConsents: "Consents", msgPurpose: "Purpose", msgState: "State",
		msgSince: "Since", msgAwaitingConfirmation: "awaiting confirmation", msgPoints: "Loyalty points",
		msgAvailable: "Available", msgPending: "Pending", msgExpired: "Expired",
		msgHistory: "Recent history", msgDate: "Date", msgEvent: "Event", msgActor: "By", msgFields: "Fields changed",
		msgStatusLead: "Lead", msgStatusProspect: "Prospect", msgStatusCustomer: "Customer", msgStatusInactive: "Inactive",
		msgConsentGranted: "Granted", msgConsentWithdrawn: "Withdrawn", msgConsentPending: "Pending", msgConsentNever: "Never asked",
		msgPhoneMobile: "mobile", msgPhoneHome: "home", msgPhoneWork: "work", msgPhoneOther: "other",
	},
	"nl": {
		msgTitle: "Klantrapport", msgInternal: "Intern document", msgGenerated: "Gemaakt", msgBy: "door",
		msgPage: "Pagina", msgOf: "van", msgNone: "Geen",
		msgCustomer: "Klant", msgName: "Naam", msgNumber: "Klantnummer", msgCompany: "Bedrijf",
		msgAddress: "Adres", msgPhones: "Telefoonnummers", msgEmails: "E-mailadressen", msgLogin: "Inlog portaal",
		msgBirthDate: "Geboortedatum", msgLanguage: "Taal", msgStatus: "Status", msgFirstContact: "Eerste contact",
		msgRemarks: "Opmerkingen", msgInternalDescription: "Interne omschrijving", msgAnonymised: "Geanonimiseerd",
		msgTags: "Tags", msgAttributes: "Kenmerken en interesses", msgLabels: "Labels", msgLabel: "Label",
		msgMemberUntil: "Lid tot en met", msgConsents: "Toestemmingen", msgPurpose: "Doel", msgState: "Stand",
		msgSince: "Sinds", msgAwaitingConfirmation: "wacht op bevestiging", msgPoints: "Spaarpunten",
		msgAvailable: "Beschikbaar", msgPending: "Nog niet beschikbaar", msgExpired: "Vervallen",
		msgHistory: "Recente geschiedenis", msgDate: "Datum", msgEvent: "Gebeurtenis", msgActor: "Door", msgFields: "Gewijzigde velden",
		msgStatusLead: "Lead", msgStatusProspect: "Prospect", msgStatusCustomer: "Klant", msgStatusInactive: "Inactief",
		msgConsentGranted: "Gegeven", msgConsentWithdrawn: "Ingetrokken", msgConsentPending: "In afwachting", msgConsentNever: "Nooit gevraagd",
		msgPhoneMobile: "mobiel", msgPhoneHome: "thuis", msgPhoneWork: "werk", msgPhoneOther: "overig",
	},
	"de": {
		msgTitle: "Kundenbericht", msgInternal: "Internes Dokument", msgGenerated: "Erstellt", msgBy: "von",
		msgPage: "Seite", msgOf: "von", msgNone: "Keine",
		msgCustomer: "Kunde", msgName: "Name", msgNumber: "Kundennummer", msgCompany: "Firma",
		msgAddress: "Anschrift", msgPhones: "Telefonnummern", msgEmails: "E-Mail-Adressen", msgLogin: "Portal-Anmeldung",
		msgBirthDate: "Geburtsdatum", msgLanguage: "Sprache", msgStatus: "Status", msgFirstContact: "Erstkontakt",
		msgRemarks: "Bemerkungen", msgInternalDescription: "Interne Beschreibung", msgAnonymised: "Anonymisiert",
		msgTags: "Tags", msgAttributes: "Merkmale und Interessen", msgLabels: "Labels", msgLabel: "Label",
		msgMemberUntil: "Mitglied bis", msgConsents: "Einwilligungen", msgPurpose: "Zweck", msgState: "Stand",
		msgSince: "Seit", msgAwaitingConfirmation: "Bestätigung ausstehend", msgPoints: "Treuepunkte",
		msgAvailable: "Verfügbar", msgPending: "Noch nicht verfügbar", msgExpired: "Verfallen",
		msgHistory: "Letzte Ereignisse", msgDate: "Datum", msgEvent: "Ereignis", msgActor: "Von", msgFields: "Geänderte Felder",
		msgStatusLead: "Lead", msgStatusProspect: "Interessent", msgStatusCustomer: "Kunde", msgStatusInactive: "Inaktiv",
		msgConsentGranted: "Erteilt", msgConsentWithdrawn: "Widerrufen", msgConsentPending: "Ausstehend", msgConsentNever: "Nie gefragt",
		msgPhoneMobile: "mobil", msgPhoneHome: "privat", msgPhoneWork: "geschäftlich", msgPhoneOther: "sonstige",
	},
	"fr": {
		msgTitle: "Rapport client", msgInternal: "Document interne", msgGenerated: "Généré le", msgBy: "par",
		msgPage: "Page", msgOf: "sur", msgNone: "Aucun",
		msgCustomer: "Client", msgName: "Nom", msgNumber: "Numéro client", msgCompany: "Société",
		msgAddress: "Adresse", msgPhones: "Téléphones", msgEmails: "Adresses e-mail", msgLogin: "Identifiant du portail",
		msgBirthDate: "Date de naissance", msgLanguage: "Langue", msgStatus: "Statut", msgFirstContact: "Premier contact",
		msgRemarks: "Remarques", msgInternalDescription: "Description interne", msgAnonymised: "Anonymisé",
		msgTags: "Tags", msgAttributes: "Attributs et centres d'intérêt", msgLabels: "Labels", msgLabel: "Label",
		msgMemberUntil: "Membre jusqu'au", msgConsents: "Consentements", msgPurpose: "Finalité", msgState: "État",
		msgSince: "Depuis", msgAwaitingConfirmation: "en attente de confirmation", msgPoints: "Points de fidélité",
		msgAvailable: "Disponibles", msgPending: "Pas encore disponibles", msgExpired: "Expirés",
		msgHistory: "Historique récent", msgDate: "Date", msgEvent: "Événement", msgActor: "Par", msgFields: "Champs modifiés",
		msgStatusLead: "Piste", msgStatusProspect: "Prospect", msgStatusCustomer: "Client", msgStatusInactive: "Inactif",
		msgConsentGranted: "Accordé", msgConsentWithdrawn: "Retiré", msgConsentPending: "En attente", msgConsentNever: "Jamais demandé",
		msgPhoneMobile: "mobile", msgPhoneHome: "domicile", msgPhoneWork: "travail", msgPhoneOther: "autre",
	},
	"pl": {
		msgTitle: "Raport klienta", msgInternal: "Dokument wewnętrzny", msgGenerated: "Wygenerowano", msgBy: "przez",
		msgPage: "Strona", msgOf: "z", msgNone: "Brak",
		msgCustomer: "Klient", msgName: "Imię i nazwisko", msgNumber: "Numer klienta", msgCompany: "Firma",
		msgAddress: "Adres", msgPhones: "Numery telefonów", msgEmails: "Adresy e-mail", msgLogin: "Login do portalu",
		msgBirthDate: "Data urodzenia", msgLanguage: "Język", msgStatus: "Status", msgFirstContact: "Pierwszy kontakt",
		msgRemarks: "Uwagi", msgInternalDescription: "Opis wewnętrzny", msgAnonymised: "Zanonimizowano",
		msgTags: "Tagi", msgAttributes: "Atrybuty i zainteresowania", msgLabels: "Etykiety", msgLabel: "Etykieta",
		msgMemberUntil: "Członkostwo do", msgConsents: "Zgody", msgPurpose: "Cel", msgState: "Stan",
		msgSince: "Od", msgAwaitingConfirmation: "oczekuje na potwierdzenie", msgPoints: "Punkty lojalnościowe",
		msgAvailable: "Dostępne", msgPending: "Jeszcze niedostępne", msgExpired: "Wygasłe",
		msgHistory: "Ostatnia historia", msgDate: "Data", msgEvent: "Zdarzenie", msgActor: "Kto", msgFields: "Zmienione pola",
		msgStatusLead: "Lead", msgStatusProspect: "Potencjalny klient", msgStatusCustomer: "Klient", msgStatusInactive: "Nieaktywny",
		msgConsentGranted: "Udzielona", msgConsentWithdrawn: "Wycofana", msgConsentPending: "Oczekująca", msgConsentNever: "Nigdy nie pytano",
		msgPhoneMobile: "komórkowy", msgPhoneHome: "domowy", msgPhoneWork: "służbowy", msgPhoneOther: "inny",
	},
}

// textsFor returns the texts of the language that best serves lang, or
// English.
func textsFor(lang string) (string, *words) {
	chosen, _ := i18n.Choose(languages, lang)
	return chosen, texts[chosen]
}

// status names a customer status; unknown values are shown as they are.
func (t *words) status(s crm.CustomerStatus) string {
	switch s {
	case crm.StatusLead:
		return t[msgStatusLead]
	case crm.StatusProspect:
		return t[msgStatusProspect]
	case crm.StatusCustomer:
		return t[msgStatusCustomer]
	case crm.StatusInactive:
		return t[msgStatusInactive]
	}
	return string(s)
}

// consent names a consent state; unknown values are shown as they are.
func (t *words) consent(s crm.ConsentState) string {
	switch s {
	case crm.ConsentGranted:
		return t[msgConsentGranted]
	case crm.ConsentWithdrawn:
		return t[msgConsentWithdrawn]
	case crm.ConsentPending:
		return t[msgConsentPending]
	case crm.ConsentNever:
		return t[msgConsentNever]
	}
	return string(s)
}

// phone names what a phone number is for; "" for no kind.
func (t *words) phone(k crm.PhoneKind) string {
	switch k {
	case crm.PhoneMobile:
		return t[msgPhoneMobile]
	case crm.PhoneHome:
		return t[msgPhoneHome]
	case crm.PhoneWork:
		return t[msgPhoneWork]
	case crm.PhoneOther:
		return t[msgPhoneOther]
	}
	return string(k)
}
