/* sigv4_test.c: cm_sigv4 against AWS's published SigV4 test suite (the 38
 * "v4" cases of the aws-signing-test-suite as kept in awslabs/aws-c-auth:
 * credentials AKIDEXAMPLE, region us-east-1, service "service", time
 * 2015-08-30T12:36:00Z), checking the canonical request, string to sign and
 * signature of both header signing and query presigning; then round trips
 * through cm_sigv4_verify and the rules the suite does not cover (S3 paths,
 * query re-encoding, bounds). */
#include "harness.h"

#include "cm/buf.h"
#include "cm/err.h"
#include "cm/mem.h"
#include "cm/sigv4.h"

#include <stdlib.h>
#include <string.h>

#define AKID   "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T0     1440938160 /* 2015-08-30T12:36:00Z */

struct vec {
    const char *name;
    unsigned flags; /* NO_NORMALIZE ("normalize": false), CONTENT_SHA256 ("sign_body"),
                       TOKEN_UNSIGNED ("omit_session_token") */
    const char *token;
    const char *method, *path, *query;
    const char *headers; /* request.txt header lines; leading whitespace continues a value */
    const char *body;
    const char *creq, *sts, *sig; /* header-canonical-request, -string-to-sign, -signature */
    const char *q_creq, *q_sig;   /* query-canonical-request, query-signature */
};

/* Transcribed from aws-c-auth tests/aws-signing-test-suite/v4/<name>/ (data only). */
static const struct vec VECTORS[] = {
    {"get-header-key-duplicate", 0, NULL, "GET", "/", "",
     "Host:example.amazonaws.com\nMy-Header1:value2\nMy-Header1:value2\nMy-Header1:value1\n", "",
     "GET\n/"
     "\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:"
     "20150830T123600Z\n\nhost;my-header1;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\ndc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
     "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
     "GET\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host%3Bmy-header1\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n\nhost;my-"
     "header1\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "3349ee0b81b4b589da0ff28a395c3591e04de515651dd74f298fa992d1507a97"},
    {"get-header-value-multiline", 0, NULL, "GET", "/", "",
     "Host:example.amazonaws.com\nMy-Header1:value1\n  value2\n     value3\n", "",
     "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1 value2 "
     "value3\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\ne99419459a677bc11de234014be3c4e72c1ea5b454ceb58b613061f5d7a162e8",
     "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd",
     "GET\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host%3Bmy-header1\nhost:example.amazonaws.com\nmy-header1:value1 value2 "
     "value3\n\nhost;my-header1\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "e6f5def831211aca02987a44b96826706278c7bc078112ae0263659c5b2f2d56"},
    {"get-header-value-order", 0, NULL, "GET", "/", "",
     "Host:example.amazonaws.com\nMy-Header1:value4\nMy-Header1:value1\nMy-Header1:value3\nMy-"
     "Header1:value2\n",
     "",
     "GET\n/"
     "\n\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\nx-amz-date:"
     "20150830T123600Z\n\nhost;my-header1;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
     "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
     "GET\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host%3Bmy-header1\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,"
     "value2\n\nhost;my-header1\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "313720e71ca6202fdcfa9b20f88de01a4eb0638a83c833b1c184359a4eda864e"},
    {"get-header-value-trim", 0, NULL, "GET", "/", "",
     "Host:example.amazonaws.com\nMy-Header1: value1\nMy-Header2: \"a   b   c\"\n", "",
     "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b "
     "c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\na726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
     "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
     "GET\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host%3Bmy-header1%3Bmy-header2\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:"
     "\"a b "
     "c\"\n\nhost;my-header1;my-"
     "header2\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "e7bb0fd515e125e1aec2ecc4c0c17484fb06f6846b927c35e46005dd3df3acd4"},
    {"get-relative-normalized", 0, NULL, "GET", "/example/..", "", "Host:example.amazonaws.com\n",
     "",
     "GET\n/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
     "GET\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"},
    {"get-relative-relative-normalized", 0, NULL, "GET", "/example1/example2/../..", "",
     "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
     "GET\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"},
    {"get-relative-relative-unnormalized", CM_SIGV4_NO_NORMALIZE, NULL, "GET",
     "/example1/example2/../..", "", "Host:example.amazonaws.com\n", "",
     "GET\n/example1/example2/../"
     "..\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n76115030c0f3ff06c20fdff5ceb6d5e0b835a1743e00b94fea7c7f381269437b",
     "dc33e0856fd4baca4d7aa2146c38958283844764f38c74252a333df5e613003b",
     "GET\n/example1/example2/../"
     "..\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "b45db0bfd1cf15003493b733e33aa208dd981bd0e63037a6ed953f71d2118a16"},
    {"get-relative-unnormalized", CM_SIGV4_NO_NORMALIZE, NULL, "GET", "/example/..", "",
     "Host:example.amazonaws.com\n", "",
     "GET\n/example/"
     "..\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n0511f456aa502b456d135fcb9d749374a55228f9dbeedda1eacf659e05b0615b",
     "eca7ead57bb5aa5c8e28007acd4ff04e1ff9a0ff3b237ec1554a184887ff9282",
     "GET\n/example/"
     "..\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "cbcb213b928a077e43275df47b500f1dfaa864ab3f5a18f6b95f4ff0938167ee"},
    {"get-slash-dot-slash-normalized", 0, NULL, "GET", "/./", "", "Host:example.amazonaws.com\n",
     "",
     "GET\n/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
     "GET\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"},
    {"get-slash-dot-slash-unnormalized", CM_SIGV4_NO_NORMALIZE, NULL, "GET", "/./", "",
     "Host:example.amazonaws.com\n", "",
     "GET\n/./"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\nd67825e2268bd77a97c7688b8d72c31a3c1855b309808505ba0a9747d2465aa7",
     "68714168e6557f8f2de0ef956fc24dc2593a4bd2961f8df51898d8a134695145",
     "GET\n/./"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "a9b13e8f3484d9505bf1a6f347219f8f35b0fe8f128ceea597efc146a3dfe90c"},
    {"get-slash-normalized", 0, NULL, "GET", "//", "", "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
     "GET\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"},
    {"get-slash-pointless-dot-normalized", 0, NULL, "GET", "/./example", "",
     "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "example\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n214d50c111a8edc4819da6a636336472c916b5240f51e9a51b5c3305180cf702",
     "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
     "GET\n/"
     "example\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-"
     "1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-"
     "SignedHeaders=host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "35034b1a0bdd969f346975386daf8aedfd4976573b8348cf4f67eaa41c5857de"},
    {"get-slash-pointless-dot-unnormalized", CM_SIGV4_NO_NORMALIZE, NULL, "GET", "/./example", "",
     "Host:example.amazonaws.com\n", "",
     "GET\n/./"
     "example\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n73895e0e829507e28e39fd24669aedc2434a8e179e547e3c075b42921f952cdb",
     "beb03f223f7deae4146464f06e29eebbee9c8afbe15c290cf07aa8b119e14cff",
     "GET\n/./"
     "example\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-"
     "1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-"
     "SignedHeaders=host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "72b11f16d9530b18204bfb71f2d6ab085894c0ed8d352730a6e76234c58b5e10"},
    {"get-slash-unnormalized", CM_SIGV4_NO_NORMALIZE, NULL, "GET", "//", "",
     "Host:example.amazonaws.com\n", "",
     "GET\n//"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n80cb39203d058af815de2b79250ff56e1b73eb9b4718c86556cdc6f150c5d209",
     "c88bcd3d312d75078c0cd961d6deae3f4c754924b01669efcfcb439fd5e5b76e",
     "GET\n//"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "b2a9542809db687769200f56a844a03f2bd0291d6eb90232d5101c6a579446cd"},
    {"get-slashes-normalized", 0, NULL, "GET", "//example//", "", "Host:example.amazonaws.com\n",
     "",
     "GET\n/example/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\ncb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015",
     "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
     "GET\n/example/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "c1834e8fb0307243711f0f907f6ab7311ed300d87f13792d7ee4da89ab93e082"},
    {"get-slashes-unnormalized", CM_SIGV4_NO_NORMALIZE, NULL, "GET", "//example//", "",
     "Host:example.amazonaws.com\n", "",
     "GET\n//example//"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n528ec3105ee1f34ab014bb0a1a45da0ed2742a4fea3555149e5b4d5d201eb240",
     "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5",
     "GET\n//example//"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "822a5a9ba28072c5ab2bb4a6307d0c88276d40e49fec6b724c03fb4d4ba60fc2"},
    {"get-space-normalized", 0, NULL, "GET", "/example space/", "", "Host:example.amazonaws.com\n",
     "",
     "GET\n/example%20space/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
     "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
     "GET\n/example%20space/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "7a1f416954786484c9824d93c1f26ef64acb9b1b6c9154d08c9f07d0e394abf6"},
    {"get-space-unnormalized", CM_SIGV4_NO_NORMALIZE, NULL, "GET", "/example space/", "",
     "Host:example.amazonaws.com\n", "",
     "GET\n/example%20space/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
     "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
     "GET\n/example%20space/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "7a1f416954786484c9824d93c1f26ef64acb9b1b6c9154d08c9f07d0e394abf6"},
    {"get-unreserved", 0, NULL, "GET",
     "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "",
     "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\nhost:example.amazonaws."
     "com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
     "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
     "GET\n/"
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nX-Amz-Algorithm=AWS4-"
     "HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-"
     "Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host\nhost:example."
     "amazonaws.com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "95968482db1b9e0fadef6efc1bd24689f77c77d9ef56919c96a28cc92e0d6005"},
    {"get-utf8", 0, NULL, "GET",
     "/\xe1"
     "\x88"
     "\xb4"
     "",
     "", "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
     "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
     "GET\n/"
     "%E1%88%B4\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-"
     "east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-"
     "SignedHeaders=host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "10eae3f14a260bd3911cc6d008d3c576d143b05b62f09782a7a4b37f52178e44"},
    {"get-vanilla-empty-query-key", 0, NULL, "GET", "/", "Param1=value1",
     "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
     "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
     "GET\n/"
     "\nParam1=value1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%"
     "2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-"
     "SignedHeaders=host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "49096700cbbaa5753443850f40df10f904fc2fdb544dc9512203cc77c471a9de"},
    {"get-vanilla-query-order-encoded", 0, NULL, "GET", "/",
     "Param-3=Value3&Param=Value2&%E1%88%B4=Value1", "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3\nhost:example.amazonaws.com\nx-amz-date:"
     "20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n868294f5c38bd141c4972a373a76654f1418a8e4fc18b2e7903ae45e8ae0ec71",
     "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
     "GET\n/"
     "\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-"
     "Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date="
     "20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "c5f1848ceec943ac2ca68ee720460c23aaae30a2300586597ada94c4a65e4787"},
    {"get-vanilla-query-order-key-case", 0, NULL, "GET", "/", "Param2=value2&Param1=value1",
     "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:"
     "20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
     "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
     "GET\n/"
     "\nParam1=value1&Param2=value2&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%"
     "2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires="
     "3600&X-Amz-SignedHeaders=host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5"},
    {"get-vanilla-query-unreserved", 0, NULL, "GET", "/",
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~"
     "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
     "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~"
     "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nhost:example.amazonaws."
     "com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\nc30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
     "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
     "GET\n/"
     "\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~"
     "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz&X-Amz-Algorithm=AWS4-HMAC-"
     "SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-"
     "Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "8e76a88a7433637b12778d5592799b29ad21ecd6cf6325051c21d86f0acda2bf"},
    {"get-vanilla-query", 0, NULL, "GET", "/", "", "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
     "GET\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"},
    {"get-vanilla-utf8-query", 0, NULL, "GET", "/",
     "\xe1"
     "\x88"
     "\xb4"
     "=bar",
     "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\neb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
     "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
     "GET\n/"
     "\n%E1%88%B4=bar&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%"
     "2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-"
     "SignedHeaders=host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "0bdd809b1519ac4f0c1dc3540e2cc46bd0c7f778eda408b2ebf3b913d21ff600"},
    {"get-vanilla-with-session-token", 0,
     "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267", "GET", "/", "",
     "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:"
     "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n\nhost;x-amz-date;x-amz-"
     "security-token\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b",
     "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
     "GET\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-Security-Token="
     "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "7ff2b50b376cb4d151970630573d6291dc128cc5c2a12ffb237f73cc53f67b6c"},
    {"get-vanilla", 0, NULL, "GET", "/", "", "Host:example.amazonaws.com\n", "",
     "GET\n/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
     "GET\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"},
    {"post-header-key-case", 0, NULL, "POST", "/", "", "Host:example.amazonaws.com\n", "",
     "POST\n/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
     "POST\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "2ce6e6d2e0cf2f9d1b55fafec88cd20574c31dc2e7631979f71ba2310083e95b"},
    {"post-header-key-sort", 0, NULL, "POST", "/", "",
     "Host:example.amazonaws.com\nMy-Header1:value1\n", "",
     "POST\n/"
     "\n\nhost:example.amazonaws.com\nmy-header1:value1\nx-amz-date:20150830T123600Z\n\nhost;my-"
     "header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
     "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
     "POST\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host%3Bmy-header1\nhost:example.amazonaws.com\nmy-header1:value1\n\nhost;my-"
     "header1\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "c09d07e0d55871f10f2a6d350d994acf6825a3cae70673d7def55616e6119dd7"},
    {"post-header-value-case", 0, NULL, "POST", "/", "",
     "Host:example.amazonaws.com\nMy-Header1:VALUE1\n", "",
     "POST\n/"
     "\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\nx-amz-date:20150830T123600Z\n\nhost;my-"
     "header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\nd51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
     "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
     "POST\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host%3Bmy-header1\nhost:example.amazonaws.com\nmy-header1:VALUE1\n\nhost;my-"
     "header1\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "0698bc9e4f7f9139065ba2909c0e99da257e8e2a42492a097bcd46d792391fed"},
    {"post-sts-header-after", CM_SIGV4_TOKEN_UNSIGNED,
     "AQoDYXdzEPT//////////"
     "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthA"
     "x7mSEI/qkPpKPi/"
     "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHN"
     "VXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+"
     "scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
     "POST", "/", "", "Host:example.amazonaws.com\n", "",
     "POST\n/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
     "POST\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "2ce6e6d2e0cf2f9d1b55fafec88cd20574c31dc2e7631979f71ba2310083e95b"},
    {"post-sts-header-before", 0,
     "AQoDYXdzEPT//////////"
     "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthA"
     "x7mSEI/qkPpKPi/"
     "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHN"
     "VXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+"
     "scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
     "POST", "/", "", "Host:example.amazonaws.com\n", "",
     "POST\n/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:"
     "AQoDYXdzEPT//////////"
     "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthA"
     "x7mSEI/qkPpKPi/"
     "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHN"
     "VXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+"
     "scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/"
     "oLxBA==\n\nhost;x-amz-date;x-amz-security-"
     "token\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\nc237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
     "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
     "POST\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-Security-Token="
     "AQoDYXdzEPT%2F%2F%2F%2F%2F%2F%2F%2F%2F%"
     "2FwEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwt"
     "hAx7mSEI%2FqkPpKPi%"
     "2FkMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQc"
     "HNVXAkiY9q6d%2Bxo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz%"
     "2BscqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR%2FoLxBA%3D%3D&X-Amz-"
     "SignedHeaders=host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "46c2e3c63c1dbe7d39f8ada16fe7f001c1f56c5791441565323677f96308871c"},
    {"post-vanilla-empty-query-value", 0, NULL, "POST", "/", "Param1=value1",
     "Host:example.amazonaws.com\n", "",
     "POST\n/"
     "\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
     "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
     "POST\n/"
     "\nParam1=value1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%"
     "2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-"
     "SignedHeaders=host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "a9ef26247f293bffe40eeff86a0480ba8c14d31503b2e0c3399e3a16bf1a3682"},
    {"post-vanilla-query", 0, NULL, "POST", "/", "Param1=value1", "Host:example.amazonaws.com\n",
     "",
     "POST\n/"
     "\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
     "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
     "POST\n/"
     "\nParam1=value1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%"
     "2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-"
     "SignedHeaders=host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "a9ef26247f293bffe40eeff86a0480ba8c14d31503b2e0c3399e3a16bf1a3682"},
    {"post-vanilla", 0, NULL, "POST", "/", "", "Host:example.amazonaws.com\n", "",
     "POST\n/"
     "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
     "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\n553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
     "POST\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "host\nhost:example.amazonaws."
     "com\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "2ce6e6d2e0cf2f9d1b55fafec88cd20574c31dc2e7631979f71ba2310083e95b"},
    {"post-x-www-form-urlencoded-parameters", CM_SIGV4_CONTENT_SHA256, NULL, "POST", "/", "",
     "Content-Type:application/x-www-form-urlencoded; "
     "charset=utf-8\nHost:example.amazonaws.com\nContent-Length:13",
     "Param1=value1",
     "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded; "
     "charset=utf-8\nhost:example.amazonaws.com\nx-amz-content-sha256:"
     "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\nx-amz-date:"
     "20150830T123600Z\n\ncontent-length;content-type;host;x-amz-content-sha256;x-amz-"
     "date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\na89f1a5b53e37702ee6363ce1da3ce8f54386f3c8f352ae652153c2982a0bc4d",
     "328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422",
     "POST\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "content-length%3Bcontent-type%3Bhost\ncontent-length:13\ncontent-type:application/"
     "x-www-form-urlencoded; "
     "charset=utf-8\nhost:example.amazonaws.com\n\ncontent-length;content-type;"
     "host\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
     "0dbeb9b026c7b6675f266b8427efec9b4fa8b1f6ef1477d717aea231106eab4d"},
    {"post-x-www-form-urlencoded", CM_SIGV4_CONTENT_SHA256, NULL, "POST", "/", "",
     "Content-Type:application/"
     "x-www-form-urlencoded\nHost:example.amazonaws.com\nContent-Length:13",
     "Param1=value1",
     "POST\n/\n\ncontent-length:13\ncontent-type:application/"
     "x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-content-sha256:"
     "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\nx-amz-date:"
     "20150830T123600Z\n\ncontent-length;content-type;host;x-amz-content-sha256;x-amz-"
     "date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
     "aws4_request\nb1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb",
     "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
     "POST\n/"
     "\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
     "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
     "content-length%3Bcontent-type%3Bhost\ncontent-length:13\ncontent-type:application/"
     "x-www-form-urlencoded\nhost:example.amazonaws.com\n\ncontent-length;content-type;"
     "host\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
     "89a40deed0f26f9461242825a082d2222717248abc7ab41f552ad84a94ad46e9"},
};

#define MAXH 16

/* Splits a header block into (name, value) pairs; continuation lines (leading
 * whitespace) are kept in the value with their line break, as on the wire. */
static size_t parse_headers(const char *block, struct cm_sigv4_header *h, size_t max)
{
    size_t n = 0;
    const char *p = block;
    while (*p && n <= max) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len && (*p == ' ' || *p == '\t') && n) {
            h[n - 1].value_len = (size_t)(p + len - h[n - 1].value);
        } else if (len && n < max) {
            const char *colon = memchr(p, ':', len);
            h[n].name = p;
            h[n].name_len = (size_t)(colon - p);
            h[n].value = colon + 1;
            h[n].value_len = len - h[n].name_len - 1;
            n++;
        }
        p += len + (eol ? 1 : 0);
    }
    return n;
}

static int lookup_example(void *arg, const char *akid, size_t len, const char **secret)
{
    (void)arg;
    if (len == strlen(AKID) && memcmp(akid, AKID, len) == 0) {
        *secret = SECRET;
        return 0;
    }
    return CM_ENOTFOUND;
}

static const char *find_add(const struct cm_sigv4_ctx *c, const char *name)
{
    static char v[2048];
    for (size_t i = 0; i < c->n_add; i++)
        if (strcmp(c->add[i].name, name) == 0 && c->add[i].value_len < sizeof(v)) {
            memcpy(v, c->add[i].value, c->add[i].value_len);
            v[c->add[i].value_len] = '\0';
            return v;
        }
    return NULL;
}

/* Verifies the request as sent: the vector's headers plus what sign() added. */
static void check_verify_roundtrip(struct cm_sigv4_ctx *c, const struct vec *v,
                                   struct cm_sigv4_header *h, size_t nh)
{
    struct cm_sigv4_header all[MAXH + CM_SIGV4_MAX_ADD];
    memcpy(all, h, nh * sizeof(*h));
    memcpy(all + nh, c->add, c->n_add * sizeof(c->add[0]));
    /* The verifier reuses the ctx, so copy the Authorization out first. */
    char auth[1024];
    cm_strlcpy(auth, c->authorization.data, sizeof(auth));
    for (size_t i = 0; i < nh + c->n_add; i++)
        if (strcmp(all[i].name, "Authorization") == 0)
            all[i].value = auth;
    struct cm_sigv4_request req = {.method = v->method,
                                   .path = v->path,
                                   .path_len = strlen(v->path),
                                   .query = v->query,
                                   .query_len = strlen(v->query),
                                   .headers = all,
                                   .n_headers = nh + c->n_add,
                                   .payload = v->body,
                                   .payload_len = strlen(v->body)};
    struct cm_sigv4_verify_opts o = {
        .lookup = lookup_example, .now_s = T0 + 60, .flags = v->flags & CM_SIGV4_NO_NORMALIZE};
    struct cm_sigv4_verify_result r;
    int rc = cm_sigv4_verify(c, &o, &req, &r);
    CHECK_MSG(rc == 0 && r.verdict == CM_SIGV4_VALID, "%s: verify verdict %d", v->name,
              (int)r.verdict);
    CHECK(r.service_len == 7 && memcmp(r.service, "service", 7) == 0);
    /* Any change to a signed header breaks it. */
    all[0].value = "example.amazonaws.com.evil";
    all[0].value_len = strlen(all[0].value);
    rc = cm_sigv4_verify(c, &o, &req, &r);
    CHECK_MSG(rc == CM_EINVAL && r.verdict == CM_SIGV4_MISMATCH, "%s: tampered host verdict %d",
              v->name, (int)r.verdict);
}

static void run_vector(struct cm_sigv4_ctx *c, const struct vec *v)
{
    struct cm_sigv4_header h[MAXH];
    size_t nh = parse_headers(v->headers, h, MAXH);
    struct cm_sigv4_creds cr = {AKID, SECRET, v->token};
    struct cm_sigv4_config cfg = {"us-east-1", "service", &cr, T0, v->flags};
    struct cm_sigv4_request req = {.method = v->method,
                                   .path = v->path,
                                   .path_len = strlen(v->path),
                                   .query = v->query,
                                   .query_len = strlen(v->query),
                                   .headers = h,
                                   .n_headers = nh,
                                   .payload = v->body,
                                   .payload_len = strlen(v->body)};

    int rc = cm_sigv4_sign(c, &cfg, &req);
    CHECK_MSG(rc == 0, "%s: sign rc %d", v->name, rc);
    CHECK_MSG(strcmp(cm_buf_cstr(&c->canonical_request), v->creq) == 0,
              "%s: canonical request\n--- got\n%s\n--- want\n%s", v->name,
              cm_buf_cstr(&c->canonical_request), v->creq);
    CHECK_MSG(strcmp(cm_buf_cstr(&c->string_to_sign), v->sts) == 0,
              "%s: string to sign\n--- got\n%s\n--- want\n%s", v->name,
              cm_buf_cstr(&c->string_to_sign), v->sts);
    CHECK_MSG(strcmp(c->signature, v->sig) == 0, "%s: signature %s want %s", v->name, c->signature,
              v->sig);
    char want_auth[512];
    snprintf(want_auth, sizeof(want_auth),
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
             "SignedHeaders=%s, Signature=%s",
             cm_buf_cstr(&c->signed_headers), v->sig);
    CHECK_STR(cm_buf_cstr(&c->authorization), want_auth);
    CHECK_STR(find_add(c, "X-Amz-Date"), "20150830T123600Z");
    if (v->token)
        CHECK_STR(find_add(c, "X-Amz-Security-Token"), v->token);
    else
        CHECK(find_add(c, "X-Amz-Security-Token") == NULL);
    if (!(v->flags & CM_SIGV4_TOKEN_UNSIGNED))
        check_verify_roundtrip(c, v, h, nh);

    rc = cm_sigv4_presign(c, &cfg, &req, 3600);
    CHECK_MSG(rc == 0, "%s: presign rc %d", v->name, rc);
    CHECK_MSG(strcmp(cm_buf_cstr(&c->canonical_request), v->q_creq) == 0,
              "%s: presign canonical request\n--- got\n%s\n--- want\n%s", v->name,
              cm_buf_cstr(&c->canonical_request), v->q_creq);
    CHECK_MSG(strcmp(c->signature, v->q_sig) == 0, "%s: presign signature %s want %s", v->name,
              c->signature, v->q_sig);
    const char *q = cm_buf_cstr(&c->query);
    const char *tail = strstr(q, "&X-Amz-Signature=");
    CHECK_MSG(tail && strcmp(tail + 17, v->q_sig) == 0, "%s: query %s", v->name, q);
    if (*v->query)
        CHECK_MSG(strncmp(q, v->query, strlen(v->query)) == 0, "%s: query keeps original %s",
                  v->name, q);

    /* A presigned request verifies from the query alone. */
    if (!(v->flags & CM_SIGV4_TOKEN_UNSIGNED)) {
        char qs[2048];
        cm_strlcpy(qs, q, sizeof(qs));
        struct cm_sigv4_request preq = req;
        preq.query = qs;
        preq.query_len = strlen(qs);
        struct cm_sigv4_verify_opts o = {
            .lookup = lookup_example, .now_s = T0 + 100, .flags = v->flags & CM_SIGV4_NO_NORMALIZE};
        struct cm_sigv4_verify_result r;
        rc = cm_sigv4_verify(c, &o, &preq, &r);
        CHECK_MSG(rc == 0 && r.presigned, "%s: presigned verify verdict %d", v->name,
                  (int)r.verdict);
        o.now_s = T0 + 3601;
        rc = cm_sigv4_verify(c, &o, &preq, &r);
        CHECK_MSG(r.verdict == CM_SIGV4_EXPIRED, "%s: expired verdict %d", v->name, (int)r.verdict);
    }
}

/* Canonical request of a GET with the given path/query under flags. */
static const char *canon(struct cm_sigv4_ctx *c, const char *path, const char *query,
                         unsigned flags)
{
    static char out[4096];
    struct cm_sigv4_creds cr = {AKID, SECRET, NULL};
    struct cm_sigv4_config cfg = {"us-east-1", "s3", &cr, T0, flags};
    struct cm_sigv4_request req = {.method = "GET",
                                   .host = "h",
                                   .host_len = 1,
                                   .path = path,
                                   .path_len = strlen(path),
                                   .query = query,
                                   .query_len = strlen(query)};
    if (cm_sigv4_sign(c, &cfg, &req) != 0)
        return "(error)";
    /* second and third lines */
    const char *p = strchr(cm_buf_cstr(&c->canonical_request), '\n') + 1;
    const char *e = strchr(strchr(p, '\n') + 1, '\n');
    size_t n = (size_t)(e - p);
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

static void test_paths_and_queries(struct cm_sigv4_ctx *c)
{
    /* Non-S3: the wire path is encoded again, so '%' doubles. */
    CHECK_STR(canon(c, "/@connections/R1kmxc2VNjMCFIA%3D", "", 0),
              "/%40connections/R1kmxc2VNjMCFIA%253D\n");
    /* S3: the wire path is the canonical URI, no normalisation either. */
    CHECK_STR(canon(c, "/bucket/a%20b/../c", "", CM_SIGV4_S3), "/bucket/a%20b/../c\n");
    CHECK_STR(canon(c, "/a/b/..", "", 0), "/a\n");
    CHECK_STR(canon(c, "/a/./b//c/", "", 0), "/a/b/c/\n");
    CHECK_STR(canon(c, "/../..", "", 0), "/\n");
    CHECK_STR(canon(c, "", "", 0), "/\n");
    CHECK_STR(canon(c, "/a//b", "", CM_SIGV4_NO_NORMALIZE), "/a//b\n");
    /* Query: decode then re-encode; '+' is literal; sort by key then value;
     * a key without '=' has an empty value; empty pairs are dropped. */
    CHECK_STR(canon(c, "/", "b=2&a=z&a=y&c&d=a+b&e=%7e%2f/&&f=%zz", 0),
              "/\na=y&a=z&b=2&c=&d=a%2Bb&e=~%2F%2F&f=%25zz");
    /* "a-b" sorts before "a" + "=" would if joined first; keys sort alone. */
    CHECK_STR(canon(c, "/", "a=1&a-b=2", 0), "/\na=1&a-b=2");
    CHECK_STR(canon(c, "/", "%E1%88%B4=%e1%88%b4", 0), "/\n%E1%88%B4=%E1%88%B4");
}

static void test_encode(void)
{
    struct cm_buf b;
    cm_buf_init(&b, 64);
    CHECK_INT(cm_sigv4_uri_encode(&b, "a b/~*", 6, 1), 0);
    CHECK_STR(cm_buf_cstr(&b), "a%20b/~%2A");
    cm_buf_reset(&b);
    CHECK_INT(cm_sigv4_uri_encode(&b, "a/\xff", 3, 0), 0);
    CHECK_STR(cm_buf_cstr(&b), "a%2F%FF");
    cm_buf_reset(&b);
    char big[40];
    memset(big, ' ', sizeof(big));
    CHECK_INT(cm_sigv4_uri_encode(&b, big, sizeof(big), 1), CM_ETOOBIG);
    cm_buf_deinit(&b);
    char hex[65];
    cm_sigv4_sha256_hex("", 0, hex);
    CHECK_STR(hex, CM_SIGV4_EMPTY_SHA256);
    char d[17];
    cm_sigv4_format_date(T0, d);
    CHECK_STR(d, "20150830T123600Z");
}

static void test_content_sha_and_s3(struct cm_sigv4_ctx *c)
{
    struct cm_sigv4_creds cr = {AKID, SECRET, NULL};
    struct cm_sigv4_config cfg = {"us-east-1", "s3", &cr, T0, CM_SIGV4_S3};
    struct cm_sigv4_header h[] = {CM_SIGV4_HEADER("Host", "b.s3.amazonaws.com"),
                                  CM_SIGV4_HEADER("User-Agent", "x"),
                                  CM_SIGV4_HEADER("X-Amzn-Trace-Id", "Root=1")};
    struct cm_sigv4_request req = {.method = "PUT",
                                   .path = "/k",
                                   .path_len = 2,
                                   .headers = h,
                                   .n_headers = 3,
                                   .payload = "abc",
                                   .payload_len = 3};
    CHECK_INT(cm_sigv4_sign(c, &cfg, &req), 0);
    CHECK_STR(cm_buf_cstr(&c->signed_headers), "host;x-amz-content-sha256;x-amz-date");
    CHECK_STR(find_add(c, "X-Amz-Content-SHA256"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* An S3 presign signs UNSIGNED-PAYLOAD. */
    CHECK_INT(cm_sigv4_presign(c, &cfg, &req, 60), 0);
    CHECK(strstr(cm_buf_cstr(&c->canonical_request), "\nUNSIGNED-PAYLOAD") != NULL);
    /* A caller's x-amz-content-sha256 is the payload hash (botocore rule). */
    struct cm_sigv4_header h2[] = {CM_SIGV4_HEADER("Host", "h"),
                                   CM_SIGV4_HEADER("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD")};
    req.headers = h2;
    req.n_headers = 2;
    cfg.flags = 0;
    CHECK_INT(cm_sigv4_sign(c, &cfg, &req), 0);
    CHECK(strstr(cm_buf_cstr(&c->canonical_request), "\nUNSIGNED-PAYLOAD") != NULL);
    CHECK(find_add(c, "X-Amz-Content-SHA256") == NULL);
    /* payload_hash overrides the body; junk is rejected. */
    req.n_headers = 1;
    req.payload_hash = "nothex";
    CHECK_INT(cm_sigv4_sign(c, &cfg, &req), CM_EINVAL);
    CHECK_INT(c->n_add, 0);
    req.payload_hash = CM_SIGV4_EMPTY_SHA256;
    CHECK_INT(cm_sigv4_sign(c, &cfg, &req), 0);
    CHECK_STR(c->payload_hash, CM_SIGV4_EMPTY_SHA256);
}

static void test_errors(struct cm_sigv4_ctx *c)
{
    struct cm_sigv4_creds cr = {AKID, SECRET, NULL};
    struct cm_sigv4_config cfg = {"us-east-1", "sqs", &cr, T0, 0};
    struct cm_sigv4_request req = {.method = "GET", .path = "/", .path_len = 1};
    CHECK_INT(cm_sigv4_sign(c, &cfg, &req), CM_EINVAL); /* no host */
    req.host = "h";
    req.host_len = 1;
    cfg.region = "";
    CHECK_INT(cm_sigv4_sign(c, &cfg, &req), CM_EINVAL);
    cfg.region = "us-east-1";
    CHECK_INT(cm_sigv4_presign(c, &cfg, &req, 0), CM_ERANGE);
    CHECK_INT(cm_sigv4_presign(c, &cfg, &req, 604801), CM_ERANGE);
    static struct cm_sigv4_header many[CM_SIGV4_MAX_HEADERS + 1];
    for (size_t i = 0; i < CM_SIGV4_MAX_HEADERS + 1; i++)
        many[i] = (struct cm_sigv4_header){"x-a", 3, "v", 1};
    req.headers = many;
    req.n_headers = CM_SIGV4_MAX_HEADERS + 1;
    CHECK_INT(cm_sigv4_sign(c, &cfg, &req), CM_ETOOBIG);
    char q[8 * (CM_SIGV4_MAX_PARAMS + 1)];
    size_t ql = 0;
    for (size_t i = 0; i <= CM_SIGV4_MAX_PARAMS; i++)
        ql += (size_t)snprintf(q + ql, sizeof(q) - ql, "a=%zu&", i % 1000);
    req.n_headers = 0;
    req.query = q;
    req.query_len = ql;
    CHECK_INT(cm_sigv4_sign(c, &cfg, &req), CM_ETOOBIG);
}

/* Verification failures a server must tell apart. */
static void test_verify_verdicts(struct cm_sigv4_ctx *c)
{
    struct cm_sigv4_creds cr = {AKID, SECRET, "tok/en+="};
    struct cm_sigv4_config cfg = {"eu-west-1", "sqs", &cr, T0, 0};
    struct cm_sigv4_header h[8] = {CM_SIGV4_HEADER("Host", "127.0.0.1:4566"),
                                   CM_SIGV4_HEADER("Content-Type", "application/x-amz-json-1.0"),
                                   CM_SIGV4_HEADER("X-Amz-Target", "AmazonSQS.SendMessage")};
    const char *body = "{\"QueueUrl\":\"q\",\"MessageBody\":\"hi\"}";
    struct cm_sigv4_request req = {.method = "POST",
                                   .path = "/",
                                   .path_len = 1,
                                   .headers = h,
                                   .n_headers = 3,
                                   .payload = body,
                                   .payload_len = strlen(body)};
    CHECK_INT(cm_sigv4_sign(c, &cfg, &req), 0);
    CHECK_STR(cm_buf_cstr(&c->signed_headers),
              "content-type;host;x-amz-date;x-amz-security-token;x-amz-target");
    static char vals[CM_SIGV4_MAX_ADD][1024];
    for (size_t i = 0; i < c->n_add; i++) {
        memcpy(vals[i], c->add[i].value, c->add[i].value_len);
        vals[i][c->add[i].value_len] = '\0';
        h[3 + i] = (struct cm_sigv4_header){c->add[i].name, c->add[i].name_len, vals[i],
                                            c->add[i].value_len};
    }
    req.n_headers = 3 + c->n_add;
    struct cm_sigv4_verify_opts o = {.lookup = lookup_example, .now_s = T0};
    struct cm_sigv4_verify_result r;
    CHECK_INT(cm_sigv4_verify(c, &o, &req, &r), 0);
    CHECK(r.region_len == 9 && memcmp(r.region, "eu-west-1", 9) == 0);
    o.now_s = T0 + 901;
    cm_sigv4_verify(c, &o, &req, &r);
    CHECK_INT(r.verdict, CM_SIGV4_SKEWED);
    o.now_s = T0 - 901;
    cm_sigv4_verify(c, &o, &req, &r);
    CHECK_INT(r.verdict, CM_SIGV4_SKEWED);
    o.now_s = T0;
    req.payload_len--; /* body changed */
    cm_sigv4_verify(c, &o, &req, &r);
    CHECK_INT(r.verdict, CM_SIGV4_MISMATCH);
    req.payload_len++;
    h[1].value = "application/x-amz-json-1.1";
    h[1].value_len = strlen(h[1].value);
    cm_sigv4_verify(c, &o, &req, &r);
    CHECK_INT(r.verdict, CM_SIGV4_MISMATCH);
    CHECK_STR(cm_sigv4_verdict_code(r.verdict), "SignatureDoesNotMatch");
    CHECK_INT(cm_sigv4_verdict_status(r.verdict), 403);
    o.lookup = NULL;
    cm_sigv4_verify(c, &o, &req, &r);
    CHECK_INT(r.verdict, CM_SIGV4_UNKNOWN_KEY);
    req.n_headers = 3;
    cm_sigv4_verify(c, &o, &req, &r);
    CHECK_INT(r.verdict, CM_SIGV4_MISSING);
    struct cm_sigv4_header bad[] = {
        CM_SIGV4_HEADER("Host", "h"), CM_SIGV4_HEADER("X-Amz-Date", "20150830T123600Z"),
        CM_SIGV4_HEADER("Authorization", "AWS4-HMAC-SHA256 Credential=x")};
    req.headers = bad;
    req.n_headers = 3;
    cm_sigv4_verify(c, &o, &req, &r);
    CHECK_INT(r.verdict, CM_SIGV4_MALFORMED);
}

/* The libcurl 7.88 variant (raw path) verifies only with CM_SIGV4_ALLOW_RAW. */
static void test_verify_raw(struct cm_sigv4_ctx *c)
{
    struct cm_sigv4_creds cr = {AKID, SECRET, NULL};
    struct cm_sigv4_config cfg = {"us-east-1", "execute-api", &cr, T0, CM_SIGV4_S3};
    struct cm_sigv4_header h[6] = {CM_SIGV4_HEADER("Host", "127.0.0.1:8080")};
    struct cm_sigv4_request req = {.method = "POST",
                                   .path = "/prod/@connections/R1k%3D",
                                   .path_len = 25,
                                   .headers = h,
                                   .n_headers = 1};
    req.path_len = strlen(req.path);
    CHECK_INT(cm_sigv4_sign(c, &cfg, &req), 0);
    static char vals[CM_SIGV4_MAX_ADD][1024];
    for (size_t i = 0; i < c->n_add; i++) {
        memcpy(vals[i], c->add[i].value, c->add[i].value_len);
        vals[i][c->add[i].value_len] = '\0';
        h[1 + i] = (struct cm_sigv4_header){c->add[i].name, c->add[i].name_len, vals[i],
                                            c->add[i].value_len};
    }
    req.n_headers = 1 + c->n_add;
    struct cm_sigv4_verify_opts o = {.lookup = lookup_example, .now_s = T0};
    struct cm_sigv4_verify_result r;
    cm_sigv4_verify(c, &o, &req, &r);
    CHECK_INT(r.verdict, CM_SIGV4_MISMATCH);
    o.flags = CM_SIGV4_ALLOW_RAW;
    CHECK_INT(cm_sigv4_verify(c, &o, &req, &r), 0);
}

int main(void)
{
    struct cm_sigv4_ctx c;
    cm_sigv4_ctx_init(&c);
    size_t n = sizeof(VECTORS) / sizeof(VECTORS[0]);
    CHECK_INT(n, 38);
    for (size_t i = 0; i < n; i++)
        run_vector(&c, &VECTORS[i]);
    test_paths_and_queries(&c);
    test_encode();
    test_content_sha_and_s3(&c);
    test_errors(&c);
    test_verify_verdicts(&c);
    test_verify_raw(&c);
    cm_sigv4_ctx_deinit(&c);
    cm_sigv4_ctx_deinit(NULL);
    return TEST_REPORT();
}
