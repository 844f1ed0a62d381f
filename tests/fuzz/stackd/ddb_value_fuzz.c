/* ddb_value_fuzz.c: DynamoDB AttributeValue JSON and decimal numbers. The
 * input is parsed as an item (or a single value); valid values must be
 * canonical after checking (a second check changes nothing), equal to
 * themselves, and sized. The raw bytes are also parsed as a decimal: a
 * number must survive format/parse, and x + x - x == x. */
#include "sd_ddb_int.h"

#include <stdlib.h>
#include <string.h>

static void decimal(const uint8_t *data, size_t size)
{
    struct sd_ddb_dec d, e, s;
    const char *why;
    char txt[SD_DDB_DEC_TEXT];
    if (sd_ddb_dec_parse((const char *)data, size, &d, &why) < 0)
        return;
    sd_ddb_dec_format(&d, txt, sizeof(txt));
    if (sd_ddb_dec_parse(txt, strlen(txt), &e, &why) < 0 || sd_ddb_dec_cmp(&d, &e) != 0)
        abort();
    if (sd_ddb_dec_add(&d, &d, &s, &why) == 0) {
        if (sd_ddb_dec_sub(&s, &d, &e, &why) < 0 || sd_ddb_dec_cmp(&d, &e) != 0)
            abort();
        if (d.ndig && sd_ddb_dec_cmp(&s, &d) != (d.neg ? -1 : 1))
            abort();
    }
    unsigned char k[SD_DDB_DEC_KEY];
    if (sd_ddb_dec_sortkey(&d, k) > SD_DDB_DEC_KEY)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    decimal(data, size);
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (!j)
        return 0;
    int is_value = sd_ddb_av_type(j) != SD_DDB_T_NONE;
    int rc =
        is_value ? sd_ddb_av_check(j, why, sizeof(why)) : sd_ddb_item_check(j, why, sizeof(why));
    if (rc == 0) {
        char *a = cJSON_PrintUnformatted(j);
        if (is_value ? sd_ddb_av_check(j, why, sizeof(why))
                     : sd_ddb_item_check(j, why, sizeof(why)))
            abort();
        char *b = cJSON_PrintUnformatted(j);
        if (strcmp(a, b) != 0)
            abort(); /* canonical form is a fixed point */
        free(a);
        free(b);
        (void)(is_value ? sd_ddb_av_size(j) : sd_ddb_item_size(j));
        if (is_value) {
            int c;
            if (!sd_ddb_av_equal(j, j))
                abort();
            if (sd_ddb_av_cmp(j, j, &c) == 0 && c != 0)
                abort();
            unsigned char *kb;
            size_t kn;
            if (sd_ddb_av_keybytes(j, &kb, &kn) == 0)
                free(kb);
        }
    } else if (!why[0]) {
        abort();
    }
    cJSON_Delete(j);
    return 0;
}
