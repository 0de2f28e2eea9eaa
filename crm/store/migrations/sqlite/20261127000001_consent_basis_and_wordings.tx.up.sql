-- Every purpose declares its legal basis: consent (opt-in: a mailing
-- selection takes only customers who granted it) or legitimate interest
-- (opt-out: everyone who did not withdraw it). The built-in post and
-- mailings purposes are legitimate interest.
ALTER TABLE consent_purposes ADD COLUMN legal_basis TEXT NOT NULL DEFAULT 'consent'
    CHECK (legal_basis IN ('consent', 'legitimate_interest'));
UPDATE consent_purposes SET legal_basis = 'legitimate_interest' WHERE built_in = 1 AND key IN ('post', 'mailings');

-- An opt-out postal selection walks the customers who have an address in
-- number order: this index holds just those, so the walk reads no customer
-- without one, however few have an address.
CREATE INDEX customers_postal_idx ON customers (org_id, number)
    WHERE street <> '' AND city <> '' AND anonymised_at IS NULL;

-- The built-in purposes get the wordings crm.Organisations.Create gives new
-- organisations (crm.builtInWordings), in English, Dutch, German, French and
-- Polish, where the purpose has no wording in that language yet. The SHA-256
-- is that of the text's UTF-8 bytes, as ConsentService.SetWording computes
-- it. The id is a random (version 4) UUID in its text form.
WITH w (key, language, text, sha256) AS (VALUES
    ('newsletter', 'en', 'Yes, I would like to receive the newsletter by e-mail. I can unsubscribe at any time with the link in every newsletter.', '12993991efcfa8d0c382145363353e5ec34ff78aa1f74fbbb0135a1fdee9aef8'),
    ('newsletter', 'nl', 'Ja, ik ontvang graag de nieuwsbrief per e-mail. Ik kan me op elk moment afmelden via de link in elke nieuwsbrief.', '94308311c4d3c881b0a972a69bcad3b1661154a5d3eb25760759cab22b6664d5'),
    ('newsletter', 'de', 'Ja, ich möchte den Newsletter per E-Mail erhalten. Ich kann ihn jederzeit über den Link in jedem Newsletter abbestellen.', 'f82058df3e367488b83cdeccc791b3ea9b65aedc404c1ea269d51a0c59d12663'),
    ('newsletter', 'fr', 'Oui, je souhaite recevoir la newsletter par e-mail. Je peux me désabonner à tout moment grâce au lien présent dans chaque newsletter.', '739859791873b9ac6f50b12b14edf8996e145174d0ed391f5af4184ab6bc09e4'),
    ('newsletter', 'pl', 'Tak, chcę otrzymywać newsletter e-mailem. Mogę zrezygnować z niego w każdej chwili, korzystając z linku w każdym newsletterze.', '662f8f0999d0a4b30be3a367f493b427f3d9faa6b1ed19065f2cf9b8b9c3f268'),
    ('commercial_email', 'en', 'Yes, you may send me offers and other commercial messages by e-mail. I can withdraw this consent at any time.', 'e49684744e1fee15eb8ca32c33ec17bdb6b6767877b9aa6e1ce37992de04dbb7'),
    ('commercial_email', 'nl', 'Ja, u mag mij aanbiedingen en andere commerciële berichten per e-mail sturen. Ik kan deze toestemming op elk moment intrekken.', '5ef583aad58b79193d5b379f506127dd69a1fa47f26ce0bd9794714adac847fa'),
    ('commercial_email', 'de', 'Ja, Sie dürfen mir Angebote und andere Werbung per E-Mail senden. Ich kann diese Einwilligung jederzeit widerrufen.', '98b79d23cb6a67e3d4ef4e091a9ef25144929020ec5740f16be88e69d184e55c'),
    ('commercial_email', 'fr', 'Oui, vous pouvez m''envoyer des offres et d''autres messages commerciaux par e-mail. Je peux retirer ce consentement à tout moment.', '612b793aaf637b39bde4498c95a53793feb9f4cff9e0e209b14a154b290ef6db'),
    ('commercial_email', 'pl', 'Tak, wyrażam zgodę na przesyłanie mi ofert i innych informacji handlowych e-mailem. Mogę w każdej chwili wycofać tę zgodę.', 'e0a5f7f2ecae6549e05b89b5eb80ea65b367c7b21eba96847dbbb5d3cd6e27ff'),
    ('post', 'en', 'You may send me offers and information by post. I can object to this at any time.', '026ea5978a033d8cd1225c8cff25faaef7315c21abd30ea69c45014cb2e3818a'),
    ('post', 'nl', 'U mag mij aanbiedingen en informatie per post sturen. Ik kan hier op elk moment bezwaar tegen maken.', '24750de2050cefdb21136c8b82f571b884072d8806f32bec801a9eaae4a08243'),
    ('post', 'de', 'Sie dürfen mir Angebote und Informationen per Post zusenden. Ich kann dem jederzeit widersprechen.', 'a2a07dec0727a63a215288d35a245b74623a7d633b30da39a8b2960445f6dd13'),
    ('post', 'fr', 'Vous pouvez m''envoyer des offres et des informations par courrier postal. Je peux m''y opposer à tout moment.', '0ab53d6a76cd06cebd9ee0aaec588c304c22a46de0dac5436b5161e755a8d5ab'),
    ('post', 'pl', 'Możecie przesyłać mi oferty i informacje pocztą tradycyjną. W każdej chwili mogę wnieść sprzeciw.', 'f5b709911a3972372d5777776412811fae2f20e659f9ff7d15f2cdc55ed6a05f'),
    ('sms', 'en', 'Yes, you may send me offers and news by text message (SMS). I can withdraw this consent at any time.', '8d63107148189efc175f9533c949dc2146656b315b0d3871867bcb381f551bd9'),
    ('sms', 'nl', 'Ja, u mag mij aanbiedingen en nieuws per sms sturen. Ik kan deze toestemming op elk moment intrekken.', '51fb6e1958a46525b9850d49846b159888fdaba65fb1bdb7d7a810015e5affc5'),
    ('sms', 'de', 'Ja, Sie dürfen mir Angebote und Neuigkeiten per SMS senden. Ich kann diese Einwilligung jederzeit widerrufen.', 'a9b1fd205b65ffdbac739ed10eae27570e4abc30be3a51dde62977ece5f6266f'),
    ('sms', 'fr', 'Oui, vous pouvez m''envoyer des offres et des nouvelles par SMS. Je peux retirer ce consentement à tout moment.', '81485a4799456998115d885915d1ca3525d48672b47c315bf4dc0fda5d5132ef'),
    ('sms', 'pl', 'Tak, wyrażam zgodę na otrzymywanie ofert i nowości SMS-em. Mogę w każdej chwili wycofać tę zgodę.', 'e179c1f118576b2949245c22f1b32b5dc4fae4938f86c84252c1922976020386'),
    ('profiling', 'en', 'Yes, you may use my details, bookings and purchases to tailor your offers to my interests. I can withdraw this consent at any time.', 'baf53312539de2218bb7fa816480df819c0557796c7c6a63a51bc2e8eb43099f'),
    ('profiling', 'nl', 'Ja, u mag mijn gegevens, boekingen en aankopen gebruiken om uw aanbiedingen op mijn interesses af te stemmen. Ik kan deze toestemming op elk moment intrekken.', '411f8ffe0d83f2638518139cc9429ecae1ff7b85a887230c79002468de129392'),
    ('profiling', 'de', 'Ja, Sie dürfen meine Daten, Buchungen und Käufe nutzen, um Ihre Angebote auf meine Interessen abzustimmen. Ich kann diese Einwilligung jederzeit widerrufen.', '0450c2b2f9c55bbf6321280dcc7f1b9a9965b67ca5407edf519584e935b76fac'),
    ('profiling', 'fr', 'Oui, vous pouvez utiliser mes données, réservations et achats pour adapter vos offres à mes centres d''intérêt. Je peux retirer ce consentement à tout moment.', '601b8690741f3382dd67439dd82497ee905f8bdc7730ed02260dea37e3689757'),
    ('profiling', 'pl', 'Tak, wyrażam zgodę na wykorzystywanie moich danych, rezerwacji i zakupów do dopasowania ofert do moich zainteresowań. Mogę w każdej chwili wycofać tę zgodę.', '0b00c6b2527066ff2262808a762cce71e0396d07bbc26b4c46e1b65a3b0ce6fd'),
    ('mailings', 'en', 'You may keep me informed of your offers and news with mailings. I can object to all mailings at any time.', '31fd4bf2d900f2f3cea3edcdee236be49b5d6eb6f8aa2650f32687bd85887591'),
    ('mailings', 'nl', 'U mag mij met mailings op de hoogte houden van uw aanbod en nieuws. Ik kan op elk moment bezwaar maken tegen alle mailings.', '535fc5818548f258c53f6b2511175a20abf31942b0fbe626ba3c311998d1c074'),
    ('mailings', 'de', 'Sie dürfen mich mit Mailings über Ihre Angebote und Neuigkeiten informieren. Ich kann allen Mailings jederzeit widersprechen.', '4b889eb967388411f3e48e65d331cd0a4824382a425f5e1088f8a634b9320897'),
    ('mailings', 'fr', 'Vous pouvez me tenir informé de vos offres et actualités par vos envois. Je peux m''opposer à tout moment à tous vos envois.', '1e51eca3134b8a588e48f48106f7cd81f2a9b3059cd874216b1f3ceeda83b6f9'),
    ('mailings', 'pl', 'Możecie informować mnie o swoich ofertach i nowościach w wysyłkach. W każdej chwili mogę wnieść sprzeciw wobec wszystkich wysyłek.', 'f0f4c18c08ad438e4a787b34868cc4a9eb81858a8b5c32b1827fecc0e828926a'))
INSERT INTO consent_wordings (id, org_id, purpose_id, language, version, text, sha256, created_at)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
             substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
       p.org_id, p.id, w.language, 1, w.text, w.sha256, strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
FROM consent_purposes AS p
JOIN w ON w.key = p.key
WHERE p.built_in = 1
  AND NOT EXISTS (SELECT 1 FROM consent_wordings AS x
                  WHERE x.org_id = p.org_id AND x.purpose_id = p.id AND x.language = w.language);
