package crm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
)

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

// ConsentWording is one version of the text shown to a customer when asking
// for a consent. A wording is never changed: new text is a new version, and
// a consent record points at the exact wording its customer saw.
type ConsentWording struct {
	ID        string `json:"id"`
	PurposeID string `json:"purposeId"`
	// Language (BCP 47) of the text.
	Language string `json:"language"`
	// Version counts the wordings of the purpose in this language from 1.
	Version int    `json:"version"`
	Text    string `json:"text"`
	// SHA256 is the hex SHA-256 of Text: proof that the text is unchanged.
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"createdAt"`
}

// defaultWordings are the first wordings of the built-in purposes ps:
// version 1 in each language of builtInWordings.
func defaultWordings(ps []ConsentPurpose, now time.Time) []*ConsentWording {
	var out []*ConsentWording
	for _, p := range ps {
		texts := builtInWordings[p.Key]
		for _, lang := range slices.Sorted(maps.Keys(texts)) {
			sum := sha256.Sum256([]byte(texts[lang]))
			out = append(out, &ConsentWording{ID: newID(), PurposeID: p.ID, Language: lang, Version: 1,
				Text: texts[lang], SHA256: hex.EncodeToString(sum[:]), CreatedAt: now})
		}
	}
	return out
}

// SetWording makes text the purpose's current wording in a language. The
// same text as the current wording returns that wording; other text becomes
// the next version. Earlier versions stay: records point at them.
func (s *ConsentService) SetWording(ctx context.Context, purposeKeyOrID, lang, text string) (*ConsentWording, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	lang = checkLanguage(v, "language", lang)
	clean, code := cleanText(text, true)
	text = strings.TrimSpace(clean)
	switch {
	case code != "":
		v.add("text", code, "")
	case text == "":
		v.add("text", "required", "")
	case utf8.RuneCountInString(text) > 20000:
		v.add("text", "max", "20000")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	var out *ConsentWording
	err = s.store.InTx(ctx, func(tx Store) error {
		p, err := s.purpose(ctx, tx, sc, purposeKeyOrID)
		if err != nil {
			return err
		}
		ws, err := tx.ConsentWordingList(ctx, sc.org, p.ID)
		if err != nil {
			return err
		}
		version := 1
		for i := range ws { // newest version first per language
			if ws[i].Language == lang {
				if ws[i].Text == text {
					out = &ws[i]
					return nil
				}
				version = ws[i].Version + 1
				break
			}
		}
		sum := sha256.Sum256([]byte(text))
		out = &ConsentWording{
			ID: newID(), PurposeID: p.ID, Language: lang, Version: version, Text: text,
			SHA256: hex.EncodeToString(sum[:]), CreatedAt: s.now(),
		}
		return tx.ConsentWordingInsert(ctx, sc.org, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Wordings returns every wording of a purpose, newest version first per language.
func (s *ConsentService) Wordings(ctx context.Context, purposeKeyOrID string) ([]ConsentWording, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.purpose(ctx, s.store, sc, purposeKeyOrID)
	if err != nil {
		return nil, err
	}
	return s.store.ConsentWordingList(ctx, sc.org, p.ID)
}

// wordingNeeded is the refusal of a grant or sign-up that cannot point at
// a wording.
func wordingNeeded(sc scope) error {
	v := newValidation(sc.lang)
	v.add("wordingId", "wordingNeeded", "")
	return v.err()
}

// wordingFor finds the wording a record points at: the one named, or the
// latest in the customer's language along the fallback chain.
func (s *ConsentService) wordingFor(ctx context.Context, tx Store, sc scope, cust *Customer, p *ConsentPurpose, id string) (*ConsentWording, error) {
	ws, err := tx.ConsentWordingList(ctx, sc.org, p.ID)
	if err != nil {
		return nil, err
	}
	if id != "" {
		for i := range ws {
			if ws[i].ID == id {
				return &ws[i], nil
			}
		}
		v := newValidation(sc.lang)
		v.add("wordingId", "unknown", "")
		return nil, v.err()
	}
	if len(ws) == 0 {
		return nil, nil
	}
	org, err := s.organisation(ctx, tx, sc)
	if err != nil {
		return nil, err
	}
	chain := []string{cust.Language}
	if base, _ := language.Make(cust.Language).Base(); base.String() != cust.Language {
		chain = append(chain, base.String())
	}
	chain = append(chain, org.DefaultLanguage)
	for _, lang := range chain {
		for i := range ws { // newest version first per language
			if ws[i].Language == lang {
				return &ws[i], nil
			}
		}
	}
	return &ws[0], nil
}
