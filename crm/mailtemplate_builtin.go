package crm

// builtinTemplates are the texts every organisation starts with, in
// English, Dutch, German, French and Polish. An organisation overrides
// any of them per language (MailService.SetTemplate).
var builtinTemplates = func() []MailTemplate {
	type texts struct{ subject, text, html string }
	all := map[string]map[string]texts{
		TemplateSetPassword: {
			"en": {"Set your password for {{.Organisation.Name}}",
				"Dear {{.Customer.DisplayName}},\n\nPlease set the password of your account with {{.Organisation.Name}}:\n{{.Link}}\n\nThe link works until {{.ExpiresAt}}.\n\nKind regards,\n{{.Organisation.Name}}\n",
				`<p>Dear {{.Customer.DisplayName}},</p><p>Please <a href="{{.Link}}">set the password</a> of your account with {{.Organisation.Name}}.</p><p>The link works until {{.ExpiresAt}}.</p><p>Kind regards,<br>{{.Organisation.Name}}</p>`},
			"nl": {"Stel uw wachtwoord in voor {{.Organisation.Name}}",
				"Beste {{.Customer.DisplayName}},\n\nStel het wachtwoord van uw account bij {{.Organisation.Name}} in:\n{{.Link}}\n\nDe link werkt tot {{.ExpiresAt}}.\n\nMet vriendelijke groet,\n{{.Organisation.Name}}\n",
				`<p>Beste {{.Customer.DisplayName}},</p><p><a href="{{.Link}}">Stel het wachtwoord in</a> van uw account bij {{.Organisation.Name}}.</p><p>De link werkt tot {{.ExpiresAt}}.</p><p>Met vriendelijke groet,<br>{{.Organisation.Name}}</p>`},
			"de": {"Legen Sie Ihr Passwort für {{.Organisation.Name}} fest",
				"Guten Tag {{.Customer.DisplayName}},\n\nbitte legen Sie das Passwort Ihres Kontos bei {{.Organisation.Name}} fest:\n{{.Link}}\n\nDer Link gilt bis {{.ExpiresAt}}.\n\nMit freundlichen Grüßen\n{{.Organisation.Name}}\n",
				`<p>Guten Tag {{.Customer.DisplayName}},</p><p>bitte <a href="{{.Link}}">legen Sie das Passwort</a> Ihres Kontos bei {{.Organisation.Name}} fest.</p><p>Der Link gilt bis {{.ExpiresAt}}.</p><p>Mit freundlichen Grüßen<br>{{.Organisation.Name}}</p>`},
			"fr": {"Définissez votre mot de passe pour {{.Organisation.Name}}",
				"Bonjour {{.Customer.DisplayName}},\n\nVeuillez définir le mot de passe de votre compte chez {{.Organisation.Name}} :\n{{.Link}}\n\nLe lien est valable jusqu'au {{.ExpiresAt}}.\n\nCordialement,\n{{.Organisation.Name}}\n",
				`<p>Bonjour {{.Customer.DisplayName}},</p><p>Veuillez <a href="{{.Link}}">définir le mot de passe</a> de votre compte chez {{.Organisation.Name}}.</p><p>Le lien est valable jusqu'au {{.ExpiresAt}}.</p><p>Cordialement,<br>{{.Organisation.Name}}</p>`},
			"pl": {"Ustaw hasło do konta w {{.Organisation.Name}}",
				"Dzień dobry {{.Customer.DisplayName}},\n\nprosimy ustawić hasło do konta w {{.Organisation.Name}}:\n{{.Link}}\n\nLink jest ważny do {{.ExpiresAt}}.\n\nZ poważaniem\n{{.Organisation.Name}}\n",
				`<p>Dzień dobry {{.Customer.DisplayName}},</p><p>prosimy <a href="{{.Link}}">ustawić hasło</a> do konta w {{.Organisation.Name}}.</p><p>Link jest ważny do {{.ExpiresAt}}.</p><p>Z poważaniem<br>{{.Organisation.Name}}</p>`},
		},
		TemplateDocumentDelivery: {
			"en": {"Your documents from {{.Organisation.Name}}",
				"Dear {{.Customer.DisplayName}},\n\nPlease find attached:\n{{range .Documents}}- {{.Title}}\n{{end}}\nKind regards,\n{{.Organisation.Name}}\n",
				`<p>Dear {{.Customer.DisplayName}},</p><p>Please find attached:</p><ul>{{range .Documents}}<li>{{.Title}}</li>{{end}}</ul><p>Kind regards,<br>{{.Organisation.Name}}</p>`},
			"nl": {"Uw documenten van {{.Organisation.Name}}",
				"Beste {{.Customer.DisplayName}},\n\nIn de bijlage vindt u:\n{{range .Documents}}- {{.Title}}\n{{end}}\nMet vriendelijke groet,\n{{.Organisation.Name}}\n",
				`<p>Beste {{.Customer.DisplayName}},</p><p>In de bijlage vindt u:</p><ul>{{range .Documents}}<li>{{.Title}}</li>{{end}}</ul><p>Met vriendelijke groet,<br>{{.Organisation.Name}}</p>`},
			"de": {"Ihre Unterlagen von {{.Organisation.Name}}",
				"Guten Tag {{.Customer.DisplayName}},\n\nim Anhang finden Sie:\n{{range .Documents}}- {{.Title}}\n{{end}}\nMit freundlichen Grüßen\n{{.Organisation.Name}}\n",
				`<p>Guten Tag {{.Customer.DisplayName}},</p><p>im Anhang finden Sie:</p><ul>{{range .Documents}}<li>{{.Title}}</li>{{end}}</ul><p>Mit freundlichen Grüßen<br>{{.Organisation.Name}}</p>`},
			"fr": {"Vos documents de {{.Organisation.Name}}",
				"Bonjour {{.Customer.DisplayName}},\n\nVous trouverez en pièce jointe :\n{{range .Documents}}- {{.Title}}\n{{end}}\nCordialement,\n{{.Organisation.Name}}\n",
				`<p>Bonjour {{.Customer.DisplayName}},</p><p>Vous trouverez en pièce jointe :</p><ul>{{range .Documents}}<li>{{.Title}}</li>{{end}}</ul><p>Cordialement,<br>{{.Organisation.Name}}</p>`},
			"pl": {"Twoje dokumenty od {{.Organisation.Name}}",
				"Dzień dobry {{.Customer.DisplayName}},\n\nw załączniku przesyłamy:\n{{range .Documents}}- {{.Title}}\n{{end}}\nZ poważaniem\n{{.Organisation.Name}}\n",
				`<p>Dzień dobry {{.Customer.DisplayName}},</p><p>w załączniku przesyłamy:</p><ul>{{range .Documents}}<li>{{.Title}}</li>{{end}}</ul><p>Z poważaniem<br>{{.Organisation.Name}}</p>`},
		},
		TemplateDoubleOptIn: {
			"en": {"Please confirm: {{.Purpose}} from {{.Organisation.Name}}",
				"Dear {{.Customer.DisplayName}},\n\nPlease confirm that you want to receive {{.Purpose}} from {{.Organisation.Name}}:\n{{.Link}}\n\nIf you did not ask for it, ignore this mail. The link works until {{.ExpiresAt}}.\n",
				`<p>Dear {{.Customer.DisplayName}},</p><p>Please <a href="{{.Link}}">confirm</a> that you want to receive {{.Purpose}} from {{.Organisation.Name}}.</p><p>If you did not ask for it, ignore this mail. The link works until {{.ExpiresAt}}.</p>`},
			"nl": {"Graag bevestigen: {{.Purpose}} van {{.Organisation.Name}}",
				"Beste {{.Customer.DisplayName}},\n\nBevestig dat u {{.Purpose}} van {{.Organisation.Name}} wilt ontvangen:\n{{.Link}}\n\nHeeft u hier niet om gevraagd, negeer deze mail dan. De link werkt tot {{.ExpiresAt}}.\n",
				`<p>Beste {{.Customer.DisplayName}},</p><p><a href="{{.Link}}">Bevestig</a> dat u {{.Purpose}} van {{.Organisation.Name}} wilt ontvangen.</p><p>Heeft u hier niet om gevraagd, negeer deze mail dan. De link werkt tot {{.ExpiresAt}}.</p>`},
			"de": {"Bitte bestätigen: {{.Purpose}} von {{.Organisation.Name}}",
				"Guten Tag {{.Customer.DisplayName}},\n\nbitte bestätigen Sie, dass Sie {{.Purpose}} von {{.Organisation.Name}} erhalten möchten:\n{{.Link}}\n\nWenn Sie dies nicht angefordert haben, ignorieren Sie diese E-Mail. Der Link gilt bis {{.ExpiresAt}}.\n",
				`<p>Guten Tag {{.Customer.DisplayName}},</p><p>bitte <a href="{{.Link}}">bestätigen Sie</a>, dass Sie {{.Purpose}} von {{.Organisation.Name}} erhalten möchten.</p><p>Wenn Sie dies nicht angefordert haben, ignorieren Sie diese E-Mail. Der Link gilt bis {{.ExpiresAt}}.</p>`},
			"fr": {"Merci de confirmer : {{.Purpose}} de {{.Organisation.Name}}",
				"Bonjour {{.Customer.DisplayName}},\n\nMerci de confirmer que vous souhaitez recevoir {{.Purpose}} de {{.Organisation.Name}} :\n{{.Link}}\n\nSi vous ne l'avez pas demandé, ignorez ce message. Le lien est valable jusqu'au {{.ExpiresAt}}.\n",
				`<p>Bonjour {{.Customer.DisplayName}},</p><p>Merci de <a href="{{.Link}}">confirmer</a> que vous souhaitez recevoir {{.Purpose}} de {{.Organisation.Name}}.</p><p>Si vous ne l'avez pas demandé, ignorez ce message. Le lien est valable jusqu'au {{.ExpiresAt}}.</p>`},
			"pl": {"Prosimy o potwierdzenie: {{.Purpose}} od {{.Organisation.Name}}",
				"Dzień dobry {{.Customer.DisplayName}},\n\nprosimy potwierdzić, że chcesz otrzymywać {{.Purpose}} od {{.Organisation.Name}}:\n{{.Link}}\n\nJeśli to nie Ty, zignoruj tę wiadomość. Link jest ważny do {{.ExpiresAt}}.\n",
				`<p>Dzień dobry {{.Customer.DisplayName}},</p><p>prosimy <a href="{{.Link}}">potwierdzić</a>, że chcesz otrzymywać {{.Purpose}} od {{.Organisation.Name}}.</p><p>Jeśli to nie Ty, zignoruj tę wiadomość. Link jest ważny do {{.ExpiresAt}}.</p>`},
		},
		TemplateConsentConfirmation: {
			"en": {"Thank you: {{.Purpose}} from {{.Organisation.Name}}",
				"Dear {{.Customer.DisplayName}},\n\nThank you. You will receive {{.Purpose}} from {{.Organisation.Name}}. You can withdraw your consent at any time.\n",
				`<p>Dear {{.Customer.DisplayName}},</p><p>Thank you. You will receive {{.Purpose}} from {{.Organisation.Name}}. You can withdraw your consent at any time.</p>`},
			"nl": {"Bedankt: {{.Purpose}} van {{.Organisation.Name}}",
				"Beste {{.Customer.DisplayName}},\n\nBedankt. U ontvangt voortaan {{.Purpose}} van {{.Organisation.Name}}. U kunt uw toestemming altijd intrekken.\n",
				`<p>Beste {{.Customer.DisplayName}},</p><p>Bedankt. U ontvangt voortaan {{.Purpose}} van {{.Organisation.Name}}. U kunt uw toestemming altijd intrekken.</p>`},
			"de": {"Vielen Dank: {{.Purpose}} von {{.Organisation.Name}}",
				"Guten Tag {{.Customer.DisplayName}},\n\nvielen Dank. Sie erhalten künftig {{.Purpose}} von {{.Organisation.Name}}. Sie können Ihre Einwilligung jederzeit widerrufen.\n",
				`<p>Guten Tag {{.Customer.DisplayName}},</p><p>vielen Dank. Sie erhalten künftig {{.Purpose}} von {{.Organisation.Name}}. Sie können Ihre Einwilligung jederzeit widerrufen.</p>`},
			"fr": {"Merci : {{.Purpose}} de {{.Organisation.Name}}",
				"Bonjour {{.Customer.DisplayName}},\n\nMerci. Vous recevrez désormais {{.Purpose}} de {{.Organisation.Name}}. Vous pouvez retirer votre consentement à tout moment.\n",
				`<p>Bonjour {{.Customer.DisplayName}},</p><p>Merci. Vous recevrez désormais {{.Purpose}} de {{.Organisation.Name}}. Vous pouvez retirer votre consentement à tout moment.</p>`},
			"pl": {"Dziękujemy: {{.Purpose}} od {{.Organisation.Name}}",
				"Dzień dobry {{.Customer.DisplayName}},\n\ndziękujemy. Od teraz będziesz otrzymywać {{.Purpose}} od {{.Organisation.Name}}. Zgodę możesz wycofać w każdej chwili.\n",
				`<p>Dzień dobry {{.Customer.DisplayName}},</p><p>dziękujemy. Od teraz będziesz otrzymywać {{.Purpose}} od {{.Organisation.Name}}. Zgodę możesz wycofać w każdej chwili.</p>`},
		},
	}
	var out []MailTemplate
	for key, langs := range all {
		for lang, t := range langs {
			out = append(out, MailTemplate{Key: key, Language: lang, Subject: t.subject, Text: t.text, HTML: t.html, BuiltIn: true})
		}
	}
	return out
}()
