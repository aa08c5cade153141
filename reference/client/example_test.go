package client_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/oauthtrio/oauthtrio/reference/client"
)

// The front routes every path under /client/ to the client unchanged; the
// issuer may start later in the same process.
func ExampleNew() {
	app, err := client.New(context.Background(), client.Config{
		PublicURL:    "https://webserver",
		ClientID:     "simple-web-page",
		ClientSecret: os.Getenv("OAUTHTRIO_CLIENT_SECRET"),
	})
	if err != nil {
		log.Fatal(err)
	}
	front := http.NewServeMux()
	front.Handle("/client/", app)
	_ = front
}
