"""Certificates: eligibility, numbering, issuing (one or a whole class), the provincial-style PDF, the
Open Badges 3.0 credential signed as a VC-JWT, its keys, public verification, revocation and reissue."""
