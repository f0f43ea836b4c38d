# kvstore's commands on shards (examples/kvstore/cmd*.c, db.c, resp.c), pure C.
unit_kvcmd_SRCS := examples/kvstore/cmd.c examples/kvstore/cmd_route.c \
	examples/kvstore/cmd_server.c examples/kvstore/db.c examples/kvstore/resp.c \
	tests/unit/kv_execute.c
unit_kvcmd_CFLAGS := -Iexamples/kvstore
