#include "store/sqlite.h" /* the HTTP face reaching past the domain */
