package server

import "github.com/allot-dev/allot/internal/licensemanager"

// checkoutOperations returns License Manager's consumption operations: checkouts,
// extensions, check-ins and usage.
func checkoutOperations(s *licensemanager.Service) []*Operation {
	return nil
}
