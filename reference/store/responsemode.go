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
