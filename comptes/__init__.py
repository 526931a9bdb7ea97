"""Accounts and sign-in: password and ProConnect, second factor, invitations, access
requests and the audit journal."""
