package crm

import (
	"maps"
	"net/url"
	"strings"
)

// DefaultUnsubscribeOneClickURL is the List-Unsubscribe link of mailings
// when Config.UnsubscribeOneClickURL is not set: the reference server's
// one-click route. A deployment sets its public https address.
const DefaultUnsubscribeOneClickURL = "http://127.0.0.1:8080/portal/v1/unsubscribe/one-click?token={token}"

// The headers a mailing's mails carry (RFC 2369 and RFC 8058), so that
// mail programs offer an unsubscribe button of their own.
const (
	HeaderListUnsubscribe     = "List-Unsubscribe"
	HeaderListUnsubscribePost = "List-Unsubscribe-Post"
	// ListUnsubscribeOneClick is the value of List-Unsubscribe-Post and
	// the form body a mail program POSTs to the List-Unsubscribe link.
	ListUnsubscribeOneClick = "List-Unsubscribe=One-Click"
)

// How an unsubscription came, as the timeline's mailing.unsubscribed
// event records it (field "via").
const (
	// UnsubscribeViaLink: the customer confirmed on the page of the mail's link.
	UnsubscribeViaLink = "link"
	// UnsubscribeViaOneClick: the customer's mail program posted to the
	// List-Unsubscribe link (RFC 8058).
	UnsubscribeViaOneClick = "one-click"
)

// checkOneClickConfig checks Config.UnsubscribeOneClickURL and
// Config.UnsubscribeMailto: an http(s) link with {token} and nothing that
// would break the header, and a plain address.
func checkOneClickConfig(v *validation, link, mailto string) {
	u, err := url.Parse(strings.ReplaceAll(link, "{token}", "t"))
	if !strings.Contains(link, "{token}") || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		strings.ContainsAny(link, "<>,\" \t\r\n") {
		v.add("UnsubscribeOneClickURL", "invalid", "")
	}
	if mailto != "" && (!validEmail(mailto) || strings.ContainsAny(mailto, "%?#/&=<>,")) {
		v.add("UnsubscribeMailto", "email", "")
	}
}

// unsubscribeHeaders returns the List-Unsubscribe headers of a mailing's
// mail whose unsubscribe secret is token: the one-click link, the mailto
// link when configured, and List-Unsubscribe-Post when the link is https
// (RFC 8058 allows one-click only over https).
func (cfg *Config) unsubscribeHeaders(token string) map[string]string {
	link := mailLink(cfg.UnsubscribeOneClickURL, token)
	value := "<" + link + ">"
	if cfg.UnsubscribeMailto != "" {
		subject := strings.ReplaceAll(url.QueryEscape("unsubscribe "+token), "+", "%20")
		value += ", <mailto:" + cfg.UnsubscribeMailto + "?subject=" + subject + ">"
	}
	h := map[string]string{HeaderListUnsubscribe: value}
	if strings.HasPrefix(link, "https://") {
		h[HeaderListUnsubscribePost] = ListUnsubscribeOneClick
	}
	return h
}

// scrubHeaders replaces the portal's secrets in a delivered mail's
// headers, like scrubSecrets in its text; it reports whether any was there.
func scrubHeaders(h map[string]string) (map[string]string, bool) {
	var out map[string]string
	for k, v := range h {
		if s, ok := scrubSecrets(v); ok {
			if out == nil {
				out = maps.Clone(h)
			}
			out[k] = s
		}
	}
	if out == nil {
		return h, false
	}
	return out, true
}
