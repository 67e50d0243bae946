package server

import "github.com/allot-dev/allot/internal/licensemanager"

// grantOperations returns License Manager's grant operations and the received-license views.
func grantOperations(s *licensemanager.Service) []*Operation {
	return nil
}
