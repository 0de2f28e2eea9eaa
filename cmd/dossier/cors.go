package main

import (
	"net/url"
	"strings"
)

// parseCORSOrigins reads --cors-origins: origins as a browser sends them
// (scheme and host, an optional port, no path), or *.
func parseCORSOrigins(list string) ([]string, error) {
	var out []string
	for o := range strings.SplitSeq(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
				u.RawQuery != "" || u.User != nil {
				return nil, usageErrorf("--cors-origins: %q is not an origin such as https://app.example.com", o)
			}
			o = u.Scheme + "://" + u.Host
		}
		out = append(out, o)
	}
	return out, nil
}
