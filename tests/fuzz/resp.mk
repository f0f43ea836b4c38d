# kvstore's RESP2 parser and commands on shards (examples/kvstore/), pure C.
fuzz_resp_SRCS := examples/kvstore/resp.c examples/kvstore/cmd.c examples/kvstore/cmd_route.c \
	examples/kvstore/cmd_server.c examples/kvstore/db.c tests/unit/kv_execute.c
fuzz_resp_CFLAGS := -Iexamples/kvstore
