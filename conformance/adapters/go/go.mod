module alipay-cancel-kit.example/adapters/go

go 1.19
