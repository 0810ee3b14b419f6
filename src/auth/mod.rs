//! Login to the sync server: the credentials store and the file-locked token refresh.
