package authserver

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
	"github.com/oauthtrio/oauthtrio/reference/store"
)

// ClientMetadata is the RFC 7591 §2 metadata this server understands.
// Unknown members are ignored, as §2 requires.
type ClientMetadata struct {
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	PostLogoutRedirectURIs  []string `json:"post_logout_redirect_uris,omitempty"`
}

// RegistrationResponse is the RFC 7591 §3.2.1 answer.
type RegistrationResponse struct {
	ClientID              string `json:"client_id"`
	ClientSecret          string `json:"client_secret,omitempty"`
	ClientIDIssuedAt      int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"`
	ClientMetadata
}

type registrationError struct {
	code, description string
}

func (e registrationError) Error() string { return e.code + ": " + e.description }

func invalidMetadata(d string) error    { return registrationError{"invalid_client_metadata", d} }
func invalidRedirectURI(d string) error { return registrationError{"invalid_redirect_uri", d} }

// handleRegister is the RFC 7591 dynamic client registration endpoint.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Registration == RegistrationOff {
		writeJSONError(w, http.StatusNotFound, "not_found", "Dynamic client registration is disabled.")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "The registration endpoint accepts POST only.")
		return
	}
	if s.cfg.Registration == RegistrationToken && !s.validInitialAccessToken(r) {
		// RFC 7591 §3: the initial access token is an OAuth bearer token,
		// so RFC 6750 §3.1 applies: no error code when none was sent.
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+s.issuer+`"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error_description": "An initial access token is required to register."})
			return
		}
		s.bearerError(w, http.StatusUnauthorized, "invalid_token", "A valid initial access token is required to register.")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSONError(w, http.StatusBadRequest, "invalid_client_metadata", "The body must be application/json.")
		return
	}
	var md ClientMetadata
	if err := json.NewDecoder(r.Body).Decode(&md); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_client_metadata", "The body is not valid client metadata JSON.")
		return
	}
	client, secret, err := s.newClient(&md)
	if err != nil {
		var re registrationError
		if errors.As(err, &re) {
			writeJSONError(w, http.StatusBadRequest, re.code, re.description)
			return
		}
		writeRFCError(w, s.classify(r, "registration", err))
		return
	}
	if err := s.store.CreateClient(r.Context(), client); err != nil {
		writeRFCError(w, s.classify(r, "registration", err))
		return
	}
	s.log.Info("client registered", "client", client.GetID(), "name", client.Name)
	resp := RegistrationResponse{
		ClientID:         client.GetID(),
		ClientSecret:     secret,
		ClientIDIssuedAt: client.CreatedAt.Unix(),
		ClientMetadata:   md,
	}
	if secret != "" {
		never := int64(0)
		resp.ClientSecretExpiresAt = &never
	}
	status := http.StatusCreated
	if fault.On("reg-status-200") {
		status = http.StatusOK
	}
	writeJSON(w, status, resp)
}

func (s *Server) validInitialAccessToken(r *http.Request) bool {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.cfg.InitialAccessToken)) == 1
}

// newClient validates the metadata, fills its defaults in place and builds
// the client with a fresh id and secret.
func (s *Server) newClient(md *ClientMetadata) (*store.Client, string, error) {
	if md.TokenEndpointAuthMethod == "" {
		md.TokenEndpointAuthMethod = "client_secret_basic" // RFC 7591 §2
	}
	if !slices.Contains([]string{"client_secret_basic", "client_secret_post", "none"}, md.TokenEndpointAuthMethod) {
		return nil, "", invalidMetadata("token_endpoint_auth_method must be client_secret_basic, client_secret_post or none.")
	}
	if len(md.GrantTypes) == 0 {
		md.GrantTypes = []string{"authorization_code"}
	}
	if len(md.ResponseTypes) == 0 && slices.Contains(md.GrantTypes, "authorization_code") {
		md.ResponseTypes = []string{"code"}
	}
	policy := s.cfg.RegistrationPolicy
	for _, g := range md.GrantTypes {
		if !slices.Contains(grantTypes, g) {
			return nil, "", invalidMetadata("Unsupported grant type " + g + ".")
		}
		if !slices.Contains(policy.GrantTypes, g) {
			return nil, "", invalidMetadata("The grant type " + g + " is not open to dynamic registration.")
		}
	}
	for _, rt := range md.ResponseTypes {
		if rt != "code" {
			return nil, "", invalidMetadata("Unsupported response type " + rt + ".")
		}
	}
	// RFC 7591 §2.1: grant_types and response_types must agree.
	if slices.Contains(md.GrantTypes, "authorization_code") != slices.Contains(md.ResponseTypes, "code") {
		return nil, "", invalidMetadata("grant_type authorization_code and response_type code go together.")
	}
	public := md.TokenEndpointAuthMethod == "none"
	if public && slices.Contains(md.GrantTypes, "client_credentials") {
		return nil, "", invalidMetadata("A public client cannot use the client_credentials grant.")
	}
	if slices.Contains(md.GrantTypes, "authorization_code") && len(md.RedirectURIs) == 0 {
		return nil, "", invalidRedirectURI("redirect_uris is required for the authorization_code grant.")
	}
	for _, u := range md.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, "", invalidRedirectURI(err.Error())
		}
	}
	for _, u := range md.PostLogoutRedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, "", invalidMetadata("post_logout_redirect_uris: " + err.Error())
		}
	}
	scopes := slices.Clone(policy.Scopes)
	if md.Scope != "" {
		scopes = nil
		for _, sc := range strings.Fields(md.Scope) {
			if !slices.Contains(scopeNames(), sc) {
				return nil, "", invalidMetadata("Unknown scope " + sc + ".")
			}
			// RFC 7591 §2: the server may register a narrower scope than
			// asked for; the response says which.
			if slices.Contains(policy.Scopes, sc) && !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	md.Scope = strings.Join(scopes, " ")

	secret := ""
	var hash []byte
	if !public {
		secret = randomToken()
		var err error
		hashed := secret
		if fault.On("reg-secret-mismatch") {
			hashed = randomToken()
		}
		if hash, err = HashSecret(hashed); err != nil {
			return nil, "", err
		}
	}
	method := md.TokenEndpointAuthMethod
	if fault.On("reg-auth-method-dropped") && !public {
		method = "client_secret_basic"
	}
	c := &store.Client{
		DefaultOpenIDConnectClient: &fosite.DefaultOpenIDConnectClient{
			DefaultClient: &fosite.DefaultClient{
				ID: randomToken()[:32], Secret: hash, RedirectURIs: md.RedirectURIs,
				GrantTypes: md.GrantTypes, ResponseTypes: md.ResponseTypes, Scopes: scopes,
				Audience: slices.Clone(policy.Audience), Public: public,
			},
			TokenEndpointAuthMethod: method,
		},
		Name:                   md.ClientName,
		PostLogoutRedirectURIs: md.PostLogoutRedirectURIs,
		RequirePKCE:            public,
		Dynamic:                true,
		CreatedAt:              time.Now().UTC().Truncate(time.Second),
	}
	return c, secret, nil
}

// checkRedirectURI applies RFC 6749 §3.1.2 (absolute, no fragment) and
// RFC 9700 §2.1 / RFC 8252 §7.3: https, or http on a loopback address.
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return errors.New("redirect URI " + raw + " is not an absolute URI")
	}
	if (u.Fragment != "" || strings.Contains(raw, "#")) && !fault.On("reg-fragment-accepted") {
		return errors.New("redirect URI " + raw + " has a fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return nil
		}
		return errors.New("redirect URI " + raw + " uses http on a non-loopback host")
	default:
		return errors.New("redirect URI " + raw + " must use https")
	}
}
