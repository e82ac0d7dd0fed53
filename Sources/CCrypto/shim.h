/* OpenSSL's libcrypto for Swift: only the EVP digest API, for SHA-256 content hashes (SHA-NI where the CPU has it). */
#include <openssl/evp.h>
