package crm

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// The argon2id parameters of portal passwords: the OWASP Password Storage
// Cheat Sheet's first recommendation (m=19 MiB, t=2, p=1), a 128-bit salt
// and a 256-bit hash. They are written into every stored hash (a PHC
// string), so raising them later keeps old hashes verifiable.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// DefaultPasswordMinLength is the shortest portal password when
// Config.PasswordMinLength is not set. MaxPasswordLength bounds a password
// (in characters): long enough for passphrases and password managers,
// short enough that hashing it costs the same as any other.
const (
	DefaultPasswordMinLength = 12
	MaxPasswordLength        = 256
)

//go:embed passwords_common.txt
var commonPasswordsText string

// commonPasswords is the list of refused passwords, lower case.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}()

// checkPassword adds the failures of a new password to v: too short, too
// long, common, one repeated character, or the account's own e-mail.
func checkPassword(v *validation, field, password, email string, minLen int) {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		v.add(field, "utf8", "")
	case n < minLen:
		v.add(field, "min", fmt.Sprint(minLen))
	case n > MaxPasswordLength:
		v.add(field, "max", fmt.Sprint(MaxPasswordLength))
	case commonPasswords[strings.ToLower(password)], strings.EqualFold(password, email), oneCharacter(password):
		v.add(field, "commonPassword", "")
	}
}

// oneCharacter reports whether s repeats a single character.
func oneCharacter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return strings.Trim(s, string(r)) == ""
}

// hashPassword returns the argon2id PHC string of password with a fresh salt.
func hashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errBadHash is a stored hash that is not an argon2id PHC string.
var errBadHash = errors.New("crm: a stored password hash is not an argon2id PHC string")

// verifyPassword reports whether password matches the PHC string, in
// constant time, with the parameters the hash names.
func verifyPassword(phc, password string) (bool, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when there is no account or no password,
// so that the answer takes as long as for a real account.
var dummyHash = sync.OnceValue(func() string {
	h, err := hashPassword("not a password anyone can sign in with")
	if err != nil {
		panic(err)
	}
	return h
})
