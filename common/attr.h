/*
 * attr.h: the compiler attributes every part of onboard uses, defined once.
 * OB_NODISCARD marks a result that must be checked (libsodium's habit);
 * OB_PRINTF(fmt, args) lets the compiler check a printf-like call.
 */
#ifndef OB_COMMON_ATTR_H
#define OB_COMMON_ATTR_H

#if defined(__GNUC__)
#define OB_NODISCARD    __attribute__((warn_unused_result))
#define OB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define OB_NODISCARD
#define OB_PRINTF(a, b)
#endif

#endif
