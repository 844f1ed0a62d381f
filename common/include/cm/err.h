/* err.h: the error codes every fallible cm_ (and lg_, sd_, rt_) function
 * returns: 0 on success or a negative enum cm_err. */
#ifndef CM_ERR_H
#define CM_ERR_H

enum cm_err {
    CM_OK = 0,
    CM_EINVAL = -1,    /* bad argument or malformed input */
    CM_ETOOBIG = -2,   /* a bounded buffer or table would pass its maximum */
    CM_ENOTFOUND = -3, /* no such key, file, resource */
    CM_EPARSE = -4,    /* syntax error in outside input */
    CM_ERANGE = -5,    /* value out of bounds */
    CM_EIO = -6,       /* read/write/socket failure (see errno at the boundary) */
    CM_ETIMEDOUT = -7, /* deadline passed */
    CM_EAGAIN = -8,    /* try again later (throttled, would block) */
    CM_ECONN = -9,     /* connection refused, reset, unreachable */
    CM_EAWS = -10,     /* the remote AWS-shaped service answered with an error */
    CM_ESTATE = -11,   /* call not valid in the object's current state */
    CM_EUNSUPP = -12,  /* feature not supported (by this build, platform, peer) */
};

/* Name of an error code, never NULL ("unknown error" for foreign values). */
const char *cm_strerror(int err);

/* errno value -> enum cm_err, for the boundary right after a failing call. */
int cm_err_from_errno(int e);

#endif
