/* sd_lambda_api.h: the Lambda control/invoke API (restJson1) over
 * sd_lambda; see sd_lambda_api.c for the operations. */
#ifndef SD_LAMBDA_API_H
#define SD_LAMBDA_API_H

#include "sd_lambda.h"
#include "sd_req.h"
#include "sd_server.h"

#include "cm/buf.h"

/* Handles one Lambda API request; answers on conn now or (Invoke) later. */
void sd_lambda_api_handle(struct sd_lambda *l, struct sd_conn *conn, const struct sd_req *req);
/* Appends the FunctionConfiguration JSON of fn. */
void sd_lambda_api_config_json(struct sd_lambda *l, struct sd_fn *fn, struct cm_buf *b);

#endif
