package crm

// builtInWordings are the texts every new organisation starts with for its
// built-in purposes, in English, Dutch, German, French and Polish. A
// migration (20261127000001) gives them to organisations made before: any
// change here is a new version for new organisations only, so keep the
// migration's copy as it is.
var builtInWordings = map[string]map[string]string{
	PurposeNewsletter: {
		"en": "Yes, I would like to receive the newsletter by e-mail. I can unsubscribe at any time with the link in every newsletter.",
		"nl": "Ja, ik ontvang graag de nieuwsbrief per e-mail. Ik kan me op elk moment afmelden via de link in elke nieuwsbrief.",
		"de": "Ja, ich möchte den Newsletter per E-Mail erhalten. Ich kann ihn jederzeit über den Link in jedem Newsletter abbestellen.",
		"fr": "Oui, je souhaite recevoir la newsletter par e-mail. Je peux me désabonner à tout moment grâce au lien présent dans chaque newsletter.",
		"pl": "Tak, chcę otrzymywać newsletter e-mailem. Mogę zrezygnować z niego w każdej chwili, korzystając z linku w każdym newsletterze.",
	},
	PurposeCommercialEmail: {
		"en": "Yes, you may send me offers and other commercial messages by e-mail. I can withdraw this consent at any time.",
		"nl": "Ja, u mag mij aanbiedingen en andere commerciële berichten per e-mail sturen. Ik kan deze toestemming op elk moment intrekken.",
		"de": "Ja, Sie dürfen mir Angebote und andere Werbung per E-Mail senden. Ich kann diese Einwilligung jederzeit widerrufen.",
		"fr": "Oui, vous pouvez m'envoyer des offres et d'autres messages commerciaux par e-mail. Je peux retirer ce consentement à tout moment.",
		"pl": "Tak, wyrażam zgodę na przesyłanie mi ofert i innych informacji handlowych e-mailem. Mogę w każdej chwili wycofać tę zgodę.",
	},
	PurposePost: {
		"en": "You may send me offers and information by post. I can object to this at any time.",
		"nl": "U mag mij aanbiedingen en informatie per post sturen. Ik kan hier op elk moment bezwaar tegen maken.",
		"de": "Sie dürfen mir Angebote und Informationen per Post zusenden. Ich kann dem jederzeit widersprechen.",
		"fr": "Vous pouvez m'envoyer des offres et des informations par courrier postal. Je peux m'y opposer à tout moment.",
		"pl": "Możecie przesyłać mi oferty i informacje pocztą tradycyjną. W każdej chwili mogę wnieść sprzeciw.",
	},
	PurposeSMS: {
		"en": "Yes, you may send me offers and news by text message (SMS). I can withdraw this consent at any time.",
		"nl": "Ja, u mag mij aanbiedingen en nieuws per sms sturen. Ik kan deze toestemming op elk moment intrekken.",
		"de": "Ja, Sie dürfen mir Angebote und Neuigkeiten per SMS senden. Ich kann diese Einwilligung jederzeit widerrufen.",
		"fr": "Oui, vous pouvez m'envoyer des offres et des nouvelles par SMS. Je peux retirer ce consentement à tout moment.",
		"pl": "Tak, wyrażam zgodę na otrzymywanie ofert i nowości SMS-em. Mogę w każdej chwili wycofać tę zgodę.",
	},
	PurposeProfiling: {
		"en": "Yes, you may use my details, bookings and purchases to tailor your offers to my interests. I can withdraw this consent at any time.",
		"nl": "Ja, u mag mijn gegevens, boekingen en aankopen gebruiken om uw aanbiedingen op mijn interesses af te stemmen. Ik kan deze toestemming op elk moment intrekken.",
		"de": "Ja, Sie dürfen meine Daten, Buchungen und Käufe nutzen, um Ihre Angebote auf meine Interessen abzustimmen. Ich kann diese Einwilligung jederzeit widerrufen.",
		"fr": "Oui, vous pouvez utiliser mes données, réservations et achats pour adapter vos offres à mes centres d'intérêt. Je peux retirer ce consentement à tout moment.",
		"pl": "Tak, wyrażam zgodę na wykorzystywanie moich danych, rezerwacji i zakupów do dopasowania ofert do moich zainteresowań. Mogę w każdej chwili wycofać tę zgodę.",
	},
	PurposeMailings: {
		"en": "You may keep me informed of your offers and news with mailings. I can object to all mailings at any time.",
		"nl": "U mag mij met mailings op de hoogte houden van uw aanbod en nieuws. Ik kan op elk moment bezwaar maken tegen alle mailings.",
		"de": "Sie dürfen mich mit Mailings über Ihre Angebote und Neuigkeiten informieren. Ich kann allen Mailings jederzeit widersprechen.",
		"fr": "Vous pouvez me tenir informé de vos offres et actualités par vos envois. Je peux m'opposer à tout moment à tous vos envois.",
		"pl": "Możecie informować mnie o swoich ofertach i nowościach w wysyłkach. W każdej chwili mogę wnieść sprzeciw wobec wszystkich wysyłek.",
	},
}
