# httpd's request parser and response helpers (examples/httpd/http.c), pure C.
unit_http_SRCS := examples/httpd/http.c
unit_http_CFLAGS := -Iexamples/httpd
