package server

import "github.com/allot-dev/allot/internal/licensemanager"

// tokenOperations returns License Manager's token operations, for consumers without an
// account of their own.
func tokenOperations(s *licensemanager.Service) []*Operation {
	return nil
}
