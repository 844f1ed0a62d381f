/* target_test.c: which targets count as loopback (the --yes safety check),
 * and that an unreachable loopback target is refused (exit 3 in the CLI). */
#include "cm/clock.h"
#include "cm/err.h"
#include "harness.h"
#include "target.h"

int main(void)
{
    CHECK(lg_target_is_loopback("http://127.0.0.1:8080/x"));
    CHECK(lg_target_is_loopback("https://127.10.0.3"));
    CHECK(lg_target_is_loopback("http://localhost:4566"));
    CHECK(lg_target_is_loopback("http://LOCALHOST/"));
    CHECK(lg_target_is_loopback("http://[::1]:80/"));
    CHECK(lg_target_is_loopback("http://user@127.0.0.1/"));
    CHECK(!lg_target_is_loopback("http://localhost.example.com/"));
    CHECK(!lg_target_is_loopback("http://128.0.0.1/"));
    CHECK(!lg_target_is_loopback("https://api.example.com/prod"));
    CHECK(!lg_target_is_loopback("http://127.0.0.1.evil.com@10.0.0.1/"));
    CHECK(!lg_target_is_loopback("http://10.0.0.1/127.0.0.1"));
    CHECK(!lg_target_is_loopback("http://127.0.0.1.example.com/"));
    char url[64];
    lg_target_local_url(4566, url, sizeof(url));
    CHECK_STR(url, "http://127.0.0.1:4566");
    /* port 1 on loopback: nothing listens there in the test environment */
    CHECK_INT(lg_target_probe("http://127.0.0.1:1", 2 * CM_NS_PER_S), CM_ECONN);
    return TEST_REPORT();
}
