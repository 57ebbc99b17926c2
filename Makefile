# ukfork build: the guest runtime (freestanding C, embedded into the binary)
# and bin/ukfork. `make test` runs everything CI runs.

GO        ?= go
CC        ?= gcc
MUSLCC    ?= musl-gcc
BUILD     := guest/build
RUNTIME   := $(BUILD)/runtime.elf

GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-builtin \
	-fno-stack-protector -fno-pic -fno-pie -mgeneral-regs-only -mno-red-zone \
	-fno-asynchronous-unwind-tables -fno-omit-frame-pointer -mfsgsbase \
	-Iguest/include -Ilibc-shim
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,guest/runtime.ld

GUEST_SRCS := $(wildcard guest/kvm/*.S guest/boot/*.c libc-shim/*.c)
GUEST_OBJS := $(patsubst %,$(BUILD)/%.o,$(GUEST_SRCS))
GUEST_HDRS := $(wildcard guest/include/ukfork/*.h libc-shim/*.h)

GO_SRCS := $(shell find . -name '*.go' -not -path './tests/apps/*') go.mod

.PHONY: all runtime test test-apps bench clean demo
all: bin/ukfork

runtime: $(RUNTIME)

$(BUILD)/%.c.o: %.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/%.S.o: %.S $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(RUNTIME): $(GUEST_OBJS) guest/runtime.ld
	$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS) -lgcc

bin/ukfork: $(RUNTIME) $(GO_SRCS)
	$(GO) build -o $@ ./cmd/ukfork

clean:
	rm -rf bin $(BUILD)/guest $(BUILD)/libc-shim $(RUNTIME) tests/apps/build
