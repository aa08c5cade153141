package store

import "github.com/ory/fosite"

// GetResponseModes lets every client choose among the response modes the
// server implements (OAuth 2.0 Multiple Response Type Encoding Practices
// §2.1 and the Form Post Response Mode); fosite refuses any response_mode
// for a client that does not declare them.
func (c *Client) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{
		fosite.ResponseModeDefault, fosite.ResponseModeQuery,
		fosite.ResponseModeFragment, fosite.ResponseModeFormPost,
	}
}

// GetGrantTypes returns exactly the registered grants. fosite's default
// reads an empty list as authorization_code; here it means none, as for the
// resource server's client, which may only introspect.
func (c *Client) GetGrantTypes() fosite.Arguments {
	return fosite.Arguments(c.GrantTypes)
}

// GetResponseTypes returns exactly the registered response types.
func (c *Client) GetResponseTypes() fosite.Arguments {
	return fosite.Arguments(c.ResponseTypes)
}
