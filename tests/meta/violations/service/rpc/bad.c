#include "http/http.h" /* rpc/ including the face above it */
