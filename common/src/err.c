/* err.c: names of enum cm_err and the errno boundary. */
#include "cm/err.h"

#include <errno.h>

const char *cm_strerror(int err)
{
    switch (err) {
    case CM_OK:
        return "ok";
    case CM_EINVAL:
        return "invalid argument";
    case CM_ETOOBIG:
        return "too big";
    case CM_ENOTFOUND:
        return "not found";
    case CM_EPARSE:
        return "parse error";
    case CM_ERANGE:
        return "out of range";
    case CM_EIO:
        return "i/o error";
    case CM_ETIMEDOUT:
        return "timed out";
    case CM_EAGAIN:
        return "try again";
    case CM_ECONN:
        return "connection failed";
    case CM_EAWS:
        return "aws error";
    case CM_ESTATE:
        return "invalid state";
    case CM_EUNSUPP:
        return "not supported";
    default:
        return "unknown error";
    }
}

int cm_err_from_errno(int e)
{
    switch (e) {
    case 0:
        return CM_OK;
    case ENOENT:
        return CM_ENOTFOUND;
    case EINVAL:
        return CM_EINVAL;
    case E2BIG:
    case EFBIG:
    case ENOSPC:
        return CM_ETOOBIG;
    case ERANGE:
        return CM_ERANGE;
    case ETIMEDOUT:
        return CM_ETIMEDOUT;
    case EAGAIN:
        return CM_EAGAIN;
    case ECONNREFUSED:
    case ECONNRESET:
    case ENETUNREACH:
    case EHOSTUNREACH:
        return CM_ECONN;
    case ENOTSUP:
        return CM_EUNSUPP;
    default:
        return CM_EIO;
    }
}
