package steps

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cucumber/godog"
)

// registerAssertSteps registers the generic assertions on the last HTTP response.
func (s *scenario) registerAssertSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the response has a "([^"]*)"$`, s.responseHasMember)
	sc.Step(`^the response status is (\d+)$`, s.statusIs)
	sc.Step(`^the response status is one of (.+)$`, s.statusIsOneOf)
	sc.Step(`^the response is JSON$`, s.responseIsJSON)
	sc.Step(`^the response has a string "([^"]*)"$`, s.responseHasString)
	sc.Step(`^the response has a positive number "([^"]*)"$`, s.responseHasPositiveNumber)
	sc.Step(`^the response has no "([^"]*)"$`, s.responseHasNo)
	sc.Step(`^the response "([^"]*)" is "([^"]*)" ignoring case$`, s.responseMemberFold)
	sc.Step(`^the response "([^"]*)" is (true|false)$`, s.responseMemberBool)
	sc.Step(`^the response "([^"]*)", when present, is the client id$`, s.responseMemberIsClientID)
	sc.Step(`^the response "([^"]*)" contains "([^"]*)"$`, s.responseListContains)
	sc.Step(`^the response "error_description", when present, uses only the characters RFC 6749 allows$`, s.errorDescriptionCharset)
	sc.Step(`^the response error is "([^"]*)"$`, s.responseError)
	sc.Step(`^the response error is one of (.+)$`, s.responseErrorOneOf)
	sc.Step(`^the response header "([^"]*)" contains "([^"]*)"$`, s.headerContains)
	sc.Step(`^the response header "([^"]*)" starts with "([^"]*)"$`, s.headerStartsWith)
}

var errNoResponse = errors.New("no HTTP response was received in this scenario")

func (s *scenario) last() (*response, error) {
	if s.resp == nil {
		return nil, errNoResponse
	}
	return s.resp, nil
}

func (s *scenario) statusIs(want int) error {
	r, err := s.last()
	if err != nil {
		return err
	}
	if r.status != want {
		return fmt.Errorf("expected HTTP %d, got %s", want, r)
	}
	return nil
}

// quoted lists the values in a phrase such as `"a", "b" or "c"`, or in a
// list of numbers "400, 401".
var quoted = regexp.MustCompile(`"([^"]*)"|(\d+)`)

func listOf(phrase string) []string {
	var out []string
	for _, m := range quoted.FindAllStringSubmatch(phrase, -1) {
		if m[1] != "" {
			out = append(out, m[1])
		} else {
			out = append(out, m[2])
		}
	}
	return out
}

func (s *scenario) statusIsOneOf(phrase string) error {
	r, err := s.last()
	if err != nil {
		return err
	}
	if !slices.Contains(listOf(phrase), strconv.Itoa(r.status)) {
		return fmt.Errorf("expected HTTP status one of %s, got %s", phrase, r)
	}
	return nil
}

func (s *scenario) responseIsJSON() error {
	r, err := s.last()
	if err != nil {
		return err
	}
	if ct := r.header.Get("Content-Type"); !strings.Contains(strings.ToLower(ct), "json") {
		return fmt.Errorf("expected a JSON content type, got %q (%s)", ct, r)
	}
	if r.json == nil {
		return fmt.Errorf("the body is not a JSON object: %s", r)
	}
	return nil
}

func (s *scenario) member(name string) (any, error) {
	r, err := s.last()
	if err != nil {
		return nil, err
	}
	if r.json == nil {
		return nil, fmt.Errorf("the body is not a JSON object: %s", r)
	}
	v, ok := r.json[name]
	if !ok {
		return nil, fmt.Errorf("the response has no %q: %s", name, r)
	}
	return v, nil
}

func (s *scenario) responseHasString(name string) error {
	v, err := s.member(name)
	if err != nil {
		return err
	}
	if str, ok := v.(string); !ok || str == "" {
		return fmt.Errorf("%q is not a non-empty string: %v", name, v)
	}
	return nil
}

func (s *scenario) responseHasPositiveNumber(name string) error {
	v, err := s.member(name)
	if err != nil {
		return err
	}
	if n, ok := v.(float64); !ok || n <= 0 {
		return fmt.Errorf("%q is not a positive number: %v", name, v)
	}
	return nil
}

func (s *scenario) responseHasNo(name string) error {
	r, err := s.last()
	if err != nil {
		return err
	}
	if _, ok := r.json[name]; ok {
		return fmt.Errorf("the response has %q: %s", name, r)
	}
	return nil
}

func (s *scenario) responseMemberFold(name, want string) error {
	v, err := s.member(name)
	if err != nil {
		return err
	}
	if str, _ := v.(string); !strings.EqualFold(str, want) {
		return fmt.Errorf("%q is %v, expected %q (any case)", name, v, want)
	}
	return nil
}

func (s *scenario) responseMemberBool(name, want string) error {
	v, err := s.member(name)
	if err != nil {
		return err
	}
	if b, ok := v.(bool); !ok || strconv.FormatBool(b) != want {
		return fmt.Errorf("%q is %v, expected the JSON boolean %s", name, v, want)
	}
	return nil
}

func (s *scenario) responseMemberIsClientID(name string) error {
	r, err := s.last()
	if err != nil {
		return err
	}
	v, ok := r.json[name]
	if !ok {
		return nil
	}
	if err := s.needClient(); err != nil {
		return err
	}
	if v != s.client.ID {
		return fmt.Errorf("%q is %v, expected the client id %q", name, v, s.client.ID)
	}
	return nil
}

func (s *scenario) responseListContains(name, want string) error {
	v, err := s.member(name)
	if err != nil {
		return err
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%q is not a list: %v", name, v)
	}
	if !slices.Contains(list, any(want)) {
		return fmt.Errorf("%q does not contain %q: %v", name, want, list)
	}
	return nil
}

// errorDescriptionCharset checks RFC 6749 §5.2: error_description uses
// %x20-21 / %x23-5B / %x5D-7E only.
func (s *scenario) errorDescriptionCharset() error {
	r, err := s.last()
	if err != nil {
		return err
	}
	v, ok := r.json["error_description"]
	if !ok {
		return nil
	}
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("error_description is not a string: %v", v)
	}
	for _, c := range str {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return fmt.Errorf("error_description has the character %q, which RFC 6749 §5.2 does not allow", c)
		}
	}
	return nil
}

func (s *scenario) responseError(want string) error {
	return s.responseErrorOneOf(`"` + want + `"`)
}

func (s *scenario) responseErrorOneOf(phrase string) error {
	v, err := s.member("error")
	if err != nil {
		return err
	}
	str, _ := v.(string)
	if !slices.Contains(listOf(phrase), str) {
		return fmt.Errorf("error is %q, expected %s (%s)", str, phrase, s.resp)
	}
	return nil
}

func (s *scenario) headerContains(name, want string) error {
	r, err := s.last()
	if err != nil {
		return err
	}
	for _, v := range r.header.Values(name) {
		if strings.Contains(strings.ToLower(v), strings.ToLower(want)) {
			return nil
		}
	}
	return fmt.Errorf("header %s is %q, expected it to contain %q", name, r.header.Values(name), want)
}

func (s *scenario) headerStartsWith(name, want string) error {
	r, err := s.last()
	if err != nil {
		return err
	}
	for _, v := range r.header.Values(name) {
		if strings.HasPrefix(strings.ToLower(v), strings.ToLower(want)) {
			return nil
		}
	}
	return fmt.Errorf("header %s is %q, expected it to start with %q", name, r.header.Values(name), want)
}

func (s *scenario) responseHasMember(name string) error {
	_, err := s.member(name)
	return err
}
