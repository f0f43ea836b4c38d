# kvstore's RESP2 parser and reply writers (examples/kvstore/resp.c), pure C.
unit_resp_SRCS := examples/kvstore/resp.c
unit_resp_CFLAGS := -Iexamples/kvstore
