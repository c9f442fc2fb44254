//! The recursive resolver: walks root -> TLD -> authoritative servers
//! iteratively and caches what it learns.
