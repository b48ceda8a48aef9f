package example.alipay.adapter;

/** Placeholder. */
final class Training {
    public static void main(String[] args) {}
}
